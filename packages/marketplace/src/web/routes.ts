import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { isAppRoute, wantsHtml } from "./app-routes.ts";

/** The security headers of the app's HTML: scripts and styles only from this origin; no framing. */
function htmlHeaders(connectSrc: string[]): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    // index.html names the current hashed assets: always revalidate it.
    "cache-control": "no-cache",
    "content-security-policy": [
      "default-src 'self'",
      "img-src 'self' https: data:",
      `connect-src ${["'self'", ...connectSrc].join(" ")}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ].join("; "),
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-content-type-options": "nosniff",
  };
}

/**
 * Serves the built web app (apps/marketplace-web/dist) from the marketplace
 * process — the default same-origin setup:
 * - `/assets/*`: content-hashed files, cached for a year (`immutable`);
 * - browser navigations to the app's routes (web/app-routes.ts): index.html;
 * - `notFound`: for a browser, index.html with status 404 (the app shows its
 *   not-found page, with navigation); `null` for API clients (the caller
 *   answers with the JSON envelope).
 *
 * Without a build (a checkout that never ran `npm run build`), navigations get
 * a short HTML page that says how to build it.
 */
export function webAppRoutes(options: { distDir: string }) {
  const app = new Hono<AppEnv>();
  const { distDir } = options;
  const indexPath = join(distDir, "index.html");
  const headers = htmlHeaders([]);
  let cached: { mtimeMs: number; html: string } | null = null;

  /** index.html, re-read when a rebuild replaced it. */
  function indexHtml(): string | null {
    try {
      const { mtimeMs } = statSync(indexPath);
      if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(indexPath, "utf8") };
      return cached.html;
    } catch {
      return null;
    }
  }
  const page = (c: Context, status: 200 | 404) => {
    const html = indexHtml();
    if (html) return c.body(html, status, headers);
    return c.body(NOT_BUILT, status === 404 ? 404 : 503, headers);
  };

  app.use(
    "/assets/*",
    serveStatic({
      root: distDir,
      onFound: (_path, c) => {
        c.header("cache-control", "public, max-age=31536000, immutable");
        c.header("x-content-type-options", "nosniff");
      },
    }),
  );
  app.get("*", async (c, next) => {
    if (isAppRoute(c.req.path) && wantsHtml(c.req.raw.headers)) return page(c, 200);
    await next();
  });

  /** The 404 for a browser navigation, or null when the caller wants JSON. */
  const notFound = (c: Context): Response | null =>
    c.req.method === "GET" && wantsHtml(c.req.raw.headers) ? page(c, 404) : null;
  return { app, notFound };
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Agent Marketplace</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>Page not found</h1><p>The marketplace web app is not built here. Run <code>npm run build</code> (or <code>npm start</code>, which builds it).</p>
<p><a href="/docs">API reference</a></p></body></html>`;
