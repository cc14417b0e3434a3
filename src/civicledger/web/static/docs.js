// Starts Swagger UI (/docs) or ReDoc (/redoc) on the page's element, with the node's OpenAPI
// document; a plain script so the pages need no inline script (see web/docs.py).
"use strict";
(() => {
  const swagger = document.getElementById("swagger-ui");
  if (swagger && window.SwaggerUIBundle) {
    window.ui = window.SwaggerUIBundle({
      url: swagger.dataset.openapiUrl,
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null,  // the default validator lives elsewhere
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset]
        .filter(Boolean),
    });
  }
  const redoc = document.getElementById("redoc");
  if (redoc && window.Redoc) {
    window.Redoc.init(redoc.dataset.openapiUrl, { hideDownloadButton: false }, redoc);
  }
})();
