import { type FieldError, jsonTextProblem } from "@amp/contract";
import type { Context } from "hono";
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
 * Reads and validates a JSON body with a contract schema. Wrong content type,
 * malformed JSON, a NUL character, nesting deeper than MAX_JSON_DEPTH and
 * schema failures are all a 400 `BAD_REQUEST` envelope
 * with `details.errors`; nothing downstream runs.
 */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  if (!c.req.header("content-type")?.toLowerCase().startsWith("application/json")) {
    throw new ApiError("BAD_REQUEST", "Send the body as application/json.", {
      errors: [{ field: "(body)", constraints: ["content-type must be application/json"] }],
    });
  }
  const text = await c.req.text();
  // Before parsing: a NUL cannot be stored, and deep nesting overflows recursive code downstream.
  const problem = jsonTextProblem(text);
  if (problem)
    throw new ApiError("BAD_REQUEST", "The body cannot be accepted.", {
      errors: [{ field: "(body)", constraints: [problem] }],
    });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError("BAD_REQUEST", "The body is not valid JSON.", {
      errors: [{ field: "(body)", constraints: ["malformed JSON"] }],
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new ApiError("BAD_REQUEST", "The body failed validation.", { errors: fieldErrors(parsed.error) });
  return parsed.data;
}

/** Validates query parameters the same way. */
export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success)
    throw new ApiError("BAD_REQUEST", "The query failed validation.", { errors: fieldErrors(parsed.error) });
  return parsed.data;
}
