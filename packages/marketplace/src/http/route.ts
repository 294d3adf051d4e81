import { ErrorEnvelopeSchema, successEnvelope } from "@amp/contract";
import { createRoute, type Hook, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ACCESS, type AccessName, guard } from "../auth/access.ts";
import { ApiError } from "./api-error.ts";
import { fieldErrors, screenJsonBody } from "./validate.ts";

/**
 * How a marketplace API route is declared: method, path, who may call it,
 * and the zod schemas of its input and output. One declaration validates the
 * request, guards the route and documents it in `/openapi.json`.
 */
export interface RouteSpec {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path syntax: `/agents/{agentId}`. */
  path: string;
  tag: string;
  summary: string;
  access: AccessName;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  response: z.ZodType;
  /** @default 200 */
  status?: 200 | 201;
  /** Error statuses beyond those the access rule implies (400 with input, 401/403 when guarded). */
  errors?: number[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A path segment naming a resource: bounded, no control characters (a NUL is a 400 here, not a database error). */
const PathId = z
  .string()
  .min(1)
  .max(200)
  .refine((value) => !CONTROL_CHARACTER.test(value), "must not contain control characters");

/** The schema of a route's path parameters, by name. */
export const pathParams = <const K extends string>(...names: K[]) =>
  z.object(Object.fromEntries(names.map((name) => [name, PathId]))) as z.ZodObject<{
    [P in K]: typeof PathId;
  }>;

/** The route config as the handler sees it: typed input, any Response back (the envelope is built by `ok`). */
type DeclaredRoute<S extends RouteSpec> = {
  method: S["method"];
  path: S["path"];
  request: {
    params: S["params"] extends z.ZodObject ? S["params"] : never;
    query: S["query"] extends z.ZodObject ? S["query"] : never;
    body: S["body"] extends z.ZodType
      ? { content: { "application/json": { schema: S["body"] } }; required: true }
      : never;
  };
  responses: { [status: number]: { description: string } };
};

const errorContent = { "application/json": { schema: ErrorEnvelopeSchema } };
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (`BAD_REQUEST`, `details.errors`)",
  401: "No valid credential (`UNAUTHORIZED`)",
  402: "No active subscription (`PAYMENT_REQUIRED`)",
  403: "Credential not allowed here (`FORBIDDEN`)",
  404: "No such resource (`NOT_FOUND`)",
  409: "Conflict (`CONFLICT`)",
  422: "Semantic failure (`UNPROCESSABLE_ENTITY`)",
  429: "Quota exceeded (`QUOTA_EXCEEDED`)",
  503: "A dependency is down (`SERVICE_UNAVAILABLE`)",
};

/** The OpenAPI security requirement of each access rule. */
const SECURITY: Record<AccessName, RouteConfig["security"]> = {
  public: [],
  user: [{ cookie: [] }],
  userOrOwnAgent: [{ cookie: [] }, { agentToken: [] }],
  ownAgent: [{ agentToken: [] }],
  userOrAnyAgent: [{ cookie: [] }, { agentToken: [] }],
  admin: [{ cookie: [] }, { adminToken: ["marketplace:admin"] }],
};

/** Declares a route: the returned config goes to `api.openapi(route, handler)`. */
export function declare<const S extends RouteSpec>(spec: S): DeclaredRoute<S> {
  const access = ACCESS[spec.access];
  const input = Boolean(spec.params || spec.query || spec.body);
  const errors = new Set([
    ...(input ? [400] : []),
    ...(access.accepts.length ? [401, 403] : []),
    ...(spec.errors ?? []),
  ]);
  const route = createRoute({
    method: spec.method,
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    description: `Access: ${access.summary}.`,
    security: SECURITY[spec.access],
    "x-access": spec.access,
    middleware: spec.body ? [guard(spec.access), screenJsonBody] : [guard(spec.access)],
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body
        ? { body: { content: { "application/json": { schema: spec.body } }, required: true } }
        : {}),
    },
    responses: {
      [spec.status ?? 200]: {
        description: "Success envelope",
        content: { "application/json": { schema: successEnvelope(spec.response) } },
      },
      ...Object.fromEntries(
        [...errors]
          .sort()
          .map((status) => [
            status,
            { description: ERROR_DESCRIPTIONS[status] ?? "Error envelope", content: errorContent },
          ]),
      ),
    },
  });
  return route as unknown as DeclaredRoute<S>;
}

const INPUT_MESSAGES = {
  json: "The body failed validation.",
  query: "The query failed validation.",
  param: "The path failed validation.",
} as Record<string, string>;

/** Validation failures become the contract's 400 envelope (`details.errors`), via the one error mapping. */
const defaultHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) {
    throw new ApiError("BAD_REQUEST", INPUT_MESSAGES[result.target] ?? "Bad request.", {
      errors: fieldErrors(result.error as z.ZodError),
    });
  }
};

/** A feature's router for declared routes. */
export const apiRouter = () => new OpenAPIHono<AppEnv>({ defaultHook });
export type ApiRouter = ReturnType<typeof apiRouter>;

export const SECURITY_SCHEMES = {
  cookie: {
    type: "apiKey",
    in: "cookie",
    name: "marketplace.session_token",
    description: "The marketplace web app's session (state changes need a trusted Origin).",
  },
  agentToken: {
    type: "http",
    scheme: "bearer",
    description: "An OAuth access token issued to an agent's client; acts only for that agent.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "An access token of an admin client (not an agent's) granted `marketplace:admin`, for a platform admin.",
  },
} as const;
