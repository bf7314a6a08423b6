/**
 * The web UI at `/ui/` (and `/` redirecting there, as llama-swap does): one HTML page, one
 * script and one stylesheet, all from memory, so the binary needs no files beside it and the UI
 * works offline. The pages need no key to load; they ask for one when the API answers 401 and
 * send it with every API call. Web-standard.
 */

/** The bundled UI. */
export interface UiBundle {
  js: string;
  css: string;
}

/** The UI's handlers. */
export interface UiRoutes {
  /** `/ui/`, `/ui/<anything without a dot>` (client-side routes): the page. */
  page(): Response;
  /** `/ui/app.js`, `/ui/app.css`, or null for an unknown asset. */
  asset(name: string): Response | null;
}

/** The page: the script and stylesheet, and a no-script note. */
function pageHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<div id="app"></div>
<noscript>switchyard's UI needs JavaScript; the HTTP API works without it.</noscript>
</body>
</html>
`;
}

/** Create the UI's handlers over a bundle. */
export function createUiRoutes(bundle: UiBundle): UiRoutes {
  const html = pageHtml("switchyard");
  const etag = `"${hash(bundle.js + bundle.css)}"`;
  const headers = (type: string): HeadersInit => ({ "content-type": type, "cache-control": "no-cache", etag });
  return {
    page: () => new Response(html, { headers: headers("text/html; charset=utf-8") }),
    asset(name) {
      if (name === "app.js") return new Response(bundle.js, { headers: headers("text/javascript; charset=utf-8") });
      if (name === "app.css") return new Response(bundle.css, { headers: headers("text/css; charset=utf-8") });
      return null;
    },
  };
}

/** A short content hash (FNV-1a), for the ETag. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
