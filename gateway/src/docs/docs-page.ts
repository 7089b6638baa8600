/**
 * GET /api/openapi.json (the document generated from the route table) and GET /api/docs (Swagger
 * UI from the swagger-ui-dist npm package, served from node_modules by the gateway: no CDN, so
 * the page works offline). The page runs no inline script, so its CSP (helmet's: the document
 * policy of browser-policy.ts) stays strict.
 */
import { accessSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from '@switchyard/infra';

export const DOCS_PATHS = { document: '/api/openapi.json', page: '/api/docs' } as const;

/** The package's folder, found without loading its main file (which evaluates the 1.7 MB bundle). */
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The only files served under /api/docs/: the page's assets, never the rest of the package. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': join(SWAGGER_UI, 'swagger-ui.css'),
  'swagger-ui-bundle.js': join(SWAGGER_UI, 'swagger-ui-bundle.js'),
  'favicon-32x32.png': join(SWAGGER_UI, 'favicon-32x32.png'),
  'docs.css': fileURLToPath(new URL('./docs.css', import.meta.url)),
  'init.js': fileURLToPath(new URL('./init.js', import.meta.url)),
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>switchyard API</title>
    <link rel="stylesheet" href="${DOCS_PATHS.page}/swagger-ui.css">
    <link rel="stylesheet" href="${DOCS_PATHS.page}/docs.css">
    <link rel="icon" type="image/png" href="${DOCS_PATHS.page}/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui" data-spec-url="${DOCS_PATHS.document}"></div>
    <script src="${DOCS_PATHS.page}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATHS.page}/init.js"></script>
  </body>
</html>
`;

/** Mounts the document and the page; `document` is serialised once, here. */
export function mountDocs(router: Router, document: object): void {
  const documentBytes = Buffer.from(JSON.stringify(document));
  const pageBytes = Buffer.from(PAGE);
  // Fail at startup, not on the first visit, if the package or a file is missing.
  for (const file of Object.values(ASSETS)) accessSync(file);

  router.get(DOCS_PATHS.document, (_req, res) => {
    res.type('application/json').send(documentBytes);
  });
  router.get(DOCS_PATHS.page, (_req, res) => {
    res.type('text/html').send(pageBytes);
  });
  router.get(`${DOCS_PATHS.page}/:asset`, (req, res, next) => {
    const file = ASSETS[req.params.asset!];
    if (!file) return next(); // the JSON 404
    // The package's files change only with its version, which a restart brings.
    res.sendFile(file, { maxAge: '1h' });
  });
}
