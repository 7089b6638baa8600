// Starts Swagger UI on the gateway's own OpenAPI document. A file rather than an inline script,
// so the gateway's Content-Security-Policy can forbid inline scripts everywhere.
window.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // The public validator is a call to a third-party site: the page must work offline.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'BaseLayout',
  });
});
