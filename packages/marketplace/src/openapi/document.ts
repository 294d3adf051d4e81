import type { ApiRouter } from "../http/route.ts";
import { SECURITY_SCHEMES } from "../http/route.ts";

/** The OpenAPI 3.1 document served at `/openapi.json`, generated from the declared routes. */
export function openApiDocument(api: ApiRouter, baseUrl: string) {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    api.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
  return api.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Agent Marketplace API",
      version: "1.0.0",
      description:
        "Catalog, subscriptions and usage metering. Every JSON response is wrapped in the envelope " +
        "`{ requestId, timestamp, status, statusCode, data, error }`. OAuth/OIDC endpoints: see " +
        "/api/auth/.well-known/openid-configuration.",
    },
    servers: [{ url: baseUrl }],
  });
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

/** One documented operation, flattened for the `/docs` page and the route-security suite. */
export interface DocumentedOperation {
  method: string;
  path: string;
  tag: string;
  summary: string;
  access: string;
  operation: Record<string, unknown>;
}

const METHODS = ["get", "post", "put", "delete", "patch"] as const;

export function operationsOf(document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Record<string, Record<string, unknown> | undefined>)[method];
      if (!operation) return [];
      return [
        {
          method,
          path,
          tag: (operation.tags as string[] | undefined)?.[0] ?? "API",
          summary: String(operation.summary ?? ""),
          access: String(operation["x-access"]),
          operation,
        },
      ];
    }),
  );
}
