// Bihuan: small progressive enhancements only; every page works without them.
// No inline scripts anywhere (the Content Security Policy forbids them).
(function () {
  "use strict";

  // Buttons that ask for confirmation: <button data-confirm="...">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Forms submit once: a double tap on a slow network must not send twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    window.setTimeout(function () { form.dataset.submitted = ""; }, 8000);
  });
})();
