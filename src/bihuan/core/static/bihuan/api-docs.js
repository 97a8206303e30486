/* Swagger UI for /api/docs/: the schema URL and the CSRF token come from data
   attributes, so the page needs no inline script. "Try it out" from the browser uses
   the session; its POSTs carry the CSRF token. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrf = root.getAttribute("data-csrf-token");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    }
  });
})();
