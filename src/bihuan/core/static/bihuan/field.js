// Bihuan field screens: small enhancements; every screen works without them.
// No inline scripts or handlers anywhere (the Content Security Policy forbids them):
// behaviour hangs off data-* attributes.
(function () {
  "use strict";

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function locate(onDone, onFail) {
    if (!("geolocation" in navigator)) { onFail(); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { onDone(pos.coords); },
      function () { onFail(); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  // The walk: how many hazards are marked, next to the submit button.
  function countHazards(form) {
    var out = form.querySelector("[data-hazard-count]");
    if (!out) { return; }
    var n = form.querySelectorAll(".category input.o-fail:checked").length;
    out.textContent = fmt(out.getAttribute("data-template") || "%(n)s", { n: n });
  }

  // A photo chosen for a finding that is then taken back is not uploaded for nothing.
  function forgetPhotos(container) {
    if (!container) { return; }
    container.querySelectorAll("input[type=file]").forEach(function (input) {
      input.value = "";
    });
  }

  document.querySelectorAll("form[data-walk]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.type === "radio") {
        countHazards(form);
        var item = target.closest(".item");
        if (item && target.value !== "fail") { forgetPhotos(item.querySelector(".finding")); }
      } else if (target.classList.contains("spot") && !target.checked) {
        forgetPhotos(target.parentNode.querySelector(".after-photo"));
      }
    });
  });

  // A photo was taken: record where the phone is (EXIF GPS is often stripped by
  // the browser). Asked once per form, only when a photo is actually chosen.
  document.querySelectorAll("form[data-photo-geo]").forEach(function (form) {
    var asked = false;
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (asked || input.type !== "file" || !input.files || !input.files.length) { return; }
      var lat = form.querySelector("input[name=latitude]");
      var lon = form.querySelector("input[name=longitude]");
      if (!lat || !lon || lat.value) { return; }
      asked = true;
      locate(function (coords) {
        lat.value = coords.latitude.toFixed(6);
        lon.value = coords.longitude.toFixed(6);
      }, function () { /* no position: the photo's own EXIF may still say */ });
    });
  });

  // "Use my location": fills the hidden latitude/longitude fields of a new place.
  document.querySelectorAll("[data-geolocate]").forEach(function (button) {
    var lat = document.querySelector(button.getAttribute("data-lat"));
    var lon = document.querySelector(button.getAttribute("data-lon"));
    var status = document.querySelector(button.getAttribute("data-status"));
    function say(text) { if (status) { status.textContent = text; } }
    button.addEventListener("click", function () {
      button.disabled = true;
      say(button.getAttribute("data-msg-wait") || "");
      locate(function (coords) {
        lat.value = coords.latitude.toFixed(6);
        lon.value = coords.longitude.toFixed(6);
        say(fmt(button.getAttribute("data-msg-ok") || "", { m: Math.round(coords.accuracy) }));
        button.disabled = false;
      }, function () {
        say(button.getAttribute("data-msg-fail") || "");
        button.disabled = false;
      });
    });
  });

  // A search box that narrows a list of choices as one types.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.getAttribute("data-filter"));
    if (!list) { return; }
    var empty = document.querySelector("[data-filter-empty]");
    var rows = Array.prototype.slice.call(list.querySelectorAll("[data-search]"));
    var haystacks = rows.map(function (row) {
      return (row.getAttribute("data-search") || "").toLowerCase();
    });
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = words.every(function (w) { return haystacks[i].indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      if (empty) { empty.hidden = shown !== 0; }
    });
    // Enter in the search box must not submit the form half-filled.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  });

  // Print buttons.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
