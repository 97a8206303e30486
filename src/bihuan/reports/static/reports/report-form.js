// The "use my location" button of the public report form (no inline scripts: CSP).
// Without JavaScript, or without a location, the reporter picks the town instead.
(function () {
  "use strict";

  function setup(box) {
    var button = box.querySelector("[data-locate-button]");
    var status = box.querySelector("[data-locate-status]");
    var form = box.closest("form");
    var lat = form.querySelector("input[name=latitude]");
    var lon = form.querySelector("input[name=longitude]");
    if (!button || !status || !lat || !lon) { return; }

    function say(text, kind) {
      status.textContent = text;
      status.className = "locate-status" + (kind ? " " + kind : "");
    }

    if (!("geolocation" in navigator)) {
      say(box.getAttribute("data-msg-unavailable"), "bad");
      return;
    }
    button.hidden = false;
    if (lat.value && lon.value) {
      say(box.getAttribute("data-msg-found"), "ok");
    }

    button.addEventListener("click", function () {
      say(box.getAttribute("data-msg-locating"), "");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // WGS-84, as the phone reports it; stored as is.
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          var accuracy = Math.round(position.coords.accuracy || 0);
          say(box.getAttribute("data-msg-found") + (accuracy ? " (±" + accuracy + " m)" : ""),
              "ok");
          button.disabled = false;
        },
        function () {
          say(box.getAttribute("data-msg-failed"), "bad");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-locate]");
    for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
  });
})();
