/* The dashboard's map: Leaflet (served from this site) over the server's SVG fallback.
 * Without JavaScript, or if Leaflet is missing, the SVG image stays. */
(function () {
  "use strict";
  var COLOURS = { major: "#b3261e", general: "#e08a00", on_the_spot: "#0b57d0" };

  function start() {
    var box = document.getElementById("hazard-map");
    if (!box || typeof window.L === "undefined" || !window.fetch) { return; }
    fetch(box.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { draw(box, data); } })
      .catch(function () { /* keep the SVG */ });
  }

  function draw(box, data) {
    var L = window.L;
    var fallback = box.querySelector(".map-fallback");
    if (fallback) { fallback.remove(); }
    var map = L.map(box, { attributionControl: !!data.tiles });
    if (data.tiles) {
      L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var bounds = [];
    data.outlines.forEach(function (outline) {
      if (outline.hull.length >= 3) {
        var polygon = L.polygon(outline.hull, { color: "#5f6b76", weight: 1, fillOpacity: 0.05 });
        polygon.bindTooltip(outline.name, { sticky: true });
        polygon.on("click", function () { window.location.href = outline.url + window.location.search; });
        polygon.addTo(map);
        outline.hull.forEach(function (p) { bounds.push(p); });
      }
      if (outline.centre) {
        bounds.push(outline.centre);
        L.marker(outline.centre, {
          icon: L.divIcon({ className: "map-label", html: "", iconSize: [0, 0] }),
        }).bindTooltip(outline.name, { permanent: true, direction: "center", className: "map-area-name" })
          .addTo(map);
      }
    });
    ["on_the_spot", "general", "major"].forEach(function (severity) {
      data.points.forEach(function (p) {
        if (p.severity !== severity) { return; }
        bounds.push([p.lat, p.lon]);
        var link = document.createElement("a");
        link.href = data.hazard_url.replace("{id}", p.id);
        link.textContent = p.place + ": " + p.description;
        L.circleMarker([p.lat, p.lon], {
          radius: severity === "major" ? 7 : 4, color: COLOURS[severity], weight: 1,
          fillColor: COLOURS[severity], fillOpacity: 0.8,
        }).bindPopup(link).addTo(map);
      });
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [12, 12] }); } else { map.setView([28.9, 120.04], 11); }
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "map-legend");
      ["major", "general", "on_the_spot"].forEach(function (severity) {
        var row = document.createElement("div");
        var dot = document.createElement("span");
        dot.className = "dot dot-" + severity;
        row.appendChild(dot);
        row.appendChild(document.createTextNode(data.labels[severity] || severity));
        div.appendChild(row);
      });
      return div;
    };
    legend.addTo(map);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
