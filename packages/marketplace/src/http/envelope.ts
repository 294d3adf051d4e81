import type { ErrorCode, Pagination } from "@amp/contract";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const timestamp = () => new Date().toISOString();

/** The success envelope of CONTRACT.md §4. */
// Annotated `Response`: hono's inferred JSON response type is too large for declaration emit (npm run pack:sdk).
export function ok<T>(
  c: Context,
  data: T,
  status: ContentfulStatusCode = 200,
  pagination?: Pagination,
): Response {
  return c.json(
    {
      requestId: c.get("requestId") as string,
      timestamp: timestamp(),
      status: "success" as const,
      statusCode: status,
      data,
      error: null,
      ...(pagination ? { pagination } : {}),
    },
    status,
  );
}

export function errorBody(
  requestId: string,
  status: number,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  return {
    requestId,
    timestamp: timestamp(),
    status: "error" as const,
    statusCode: status,
    data: null,
    error: { code, message, ...(details ? { details } : {}) },
  };
}
