// Starts Swagger UI on /schema from a file: the page's policy runs no inline script.
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // The default sends the document to validator.swagger.io: nothing leaves this server.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
