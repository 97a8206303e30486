// Place pages: "Near me" fills the search form with the phone's position; "Print" prints.
// Loaded as a static file (no inline scripts: the Content Security Policy forbids them).
(function () {
  "use strict";

  // Controls that need this script are wrapped in <span hidden data-js-only>.
  document.querySelectorAll("[data-js-only]").forEach(function (wrapper) {
    var needsPosition = wrapper.querySelector("[data-nearby]") !== null;
    wrapper.hidden = needsPosition && !("geolocation" in navigator);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-nearby]");
    if (!button) {
      return;
    }
    event.preventDefault();
    var form = button.form;
    var status = document.getElementById(button.getAttribute("data-status"));
    button.disabled = true;
    if (status) {
      status.textContent = button.getAttribute("data-locating");
    }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lon.value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      function () {
        button.disabled = false;
        if (status) {
          status.textContent = button.getAttribute("data-failed");
        }
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
})();
