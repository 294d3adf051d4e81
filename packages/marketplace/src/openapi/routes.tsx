import { Hono } from "hono";
import { Layout } from "../pages/layout.tsx";
import { page } from "../pages/render.ts";
import { OPERATIONS, openApiDocument } from "./document.ts";

/** `/openapi.json` and a browsable reference at `/docs`, both from the contract schemas. */
export function openApiRoutes(baseUrl: string) {
  const app = new Hono();
  const document = openApiDocument(baseUrl);
  app.get("/openapi.json", (c) => c.json(document));
  app.get("/docs", (c) => {
    const tags = [...new Set(OPERATIONS.map((op) => op.tag))];
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
            {OPERATIONS.filter((op) => op.tag === tag).map((op) => (
              <details class="tier">
                <summary>
                  <code>
                    {op.method.toUpperCase()} {op.path}
                  </code>{" "}
                  — {op.summary} <span class="muted">({op.auth})</span>
                </summary>
                <pre>
                  {JSON.stringify((document.paths[op.path] as Record<string, unknown>)[op.method], null, 2)}
                </pre>
              </details>
            ))}
          </section>
        ))}
      </Layout>,
    );
  });
  return app;
}
