import { type FieldError, jsonTextProblem } from "@amp/contract";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { ApiError } from "./api-error.ts";

/** zod issues as the contract's `details.errors` list. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.join(".") : "(body)";
    byField.set(field, [...(byField.get(field) ?? []), issue.message]);
  }
  return [...byField].map(([field, constraints]) => ({ field, constraints }));
}

/**
 * Screens a JSON body's text before anything parses it: a NUL cannot be
 * stored, and nesting deeper than MAX_JSON_DEPTH overflows recursive code
 * downstream. Both are a 400 `BAD_REQUEST` with `details.errors`. The text
 * stays cached on the request for the body validator that runs next.
 */
export const screenJsonBody: MiddlewareHandler = createMiddleware(async (c, next) => {
  if (c.req.header("content-type")?.toLowerCase().startsWith("application/json")) {
    const problem = jsonTextProblem(await c.req.text());
    if (problem) {
      throw new ApiError("BAD_REQUEST", "The body cannot be accepted.", {
        errors: [{ field: "(body)", constraints: [problem] }],
      });
    }
  }
  await next();
});
