import { Hono } from "hono";
import type { ApiRouter } from "../http/route.ts";
import { Layout } from "../pages/layout.tsx";
import { page } from "../pages/render.ts";
import { openApiDocument, operationsOf } from "./document.ts";

/** `/openapi.json` and a browsable reference at `/docs`, both generated from the declared routes. */
export function openApiRoutes(api: ApiRouter, baseUrl: string) {
  const app = new Hono();
  const document = openApiDocument(api, baseUrl);
  const operations = operationsOf(document);
  app.get("/openapi.json", (c) => c.json(document));
  app.get("/docs", (c) => {
    const tags = [...new Set(operations.map((op) => op.tag))];
    return page(
      c,
      <Layout title="API reference" wide>
        <h1>API reference</h1>
        <p>
          Machine-readable: <a href="/openapi.json">/openapi.json</a>. Every JSON response is wrapped in the
          envelope <code>{"{ requestId, timestamp, status, statusCode, data, error }"}</code>. OAuth and OIDC:{" "}
          <a href="/api/auth/.well-known/openid-configuration">discovery</a>.
        </p>
        {tags.map((tag) => (
          <section aria-labelledby={`tag-${tag}`}>
            <h2 id={`tag-${tag}`}>{tag}</h2>
            {operations
              .filter((op) => op.tag === tag)
              .map((op) => (
                <details class="tier">
                  <summary>
                    <code>
                      {op.method.toUpperCase()} {op.path}
                    </code>{" "}
                    — {op.summary} <span class="muted">({op.access})</span>
                  </summary>
                  <pre>{JSON.stringify(op.operation, null, 2)}</pre>
                </details>
              ))}
          </section>
        ))}
      </Layout>,
    );
  });
  return app;
}
