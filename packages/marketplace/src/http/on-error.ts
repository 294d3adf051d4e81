import { randomUUID } from "node:crypto";
import type { ErrorCode } from "@amp/contract";
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import { ApiError, databaseErrorKind, isDatabaseUnavailable } from "./api-error.ts";
import { errorBody } from "./envelope.ts";

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  402: "PAYMENT_REQUIRED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "BAD_REQUEST",
  415: "BAD_REQUEST",
  422: "UNPROCESSABLE_ENTITY",
  429: "QUOTA_EXCEEDED",
  503: "SERVICE_UNAVAILABLE",
};

/** Builds the wire form of an error; the one place the error envelope is made. */
export function errorResponse(
  c: Context,
  status: number,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  const requestId = (c.get("requestId") as string | undefined) ?? randomUUID();
  return c.json(errorBody(requestId, status, code, message, details), status as 400);
}

/**
 * The app's `onError`: domain errors keep their code, framework errors map by
 * status, input the database refuses is a 400 and a unique violation a 409,
 * an unreachable database is a 503 the caller may retry, and anything
 * else is logged in full and answered with a generic 500 — never a stack.
 */
export function onError(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof ApiError)
      return errorResponse(c, error.status, error.code, error.message, error.details);
    if (error instanceof HTTPException && (error.status === 400 || error.status === 415)) {
      // The framework's body checks (malformed JSON, wrong media type): bad input like any other, a 400.
      const message =
        error.status === 415 ? "Send the body as application/json." : error.message || "Bad request.";
      return errorResponse(c, 400, "BAD_REQUEST", message, {
        errors: [{ field: "(body)", constraints: [error.message || message] }],
      });
    }
    if (error instanceof HTTPException && error.status < 500) {
      const code = STATUS_CODES[error.status] ?? "BAD_REQUEST";
      const message =
        error.status === 413 ? "The request body is too large." : error.message || "Bad request.";
      return errorResponse(c, error.status, code, message);
    }
    // Whatever route reached the database with it: input PostgreSQL cannot store is the caller's, a
    // unique violation is a lost race (two creates of one slug), neither is a 500.
    const kind = databaseErrorKind(error);
    if (kind === "invalid")
      return errorResponse(c, 400, "BAD_REQUEST", "The request contains a value that cannot be stored.");
    if (kind === "conflict")
      return errorResponse(
        c,
        409,
        "CONFLICT",
        "That already exists (or was just created by another request).",
      );
    if (isDatabaseUnavailable(error)) {
      logger.warn({ requestId: c.get("requestId"), err: { message: error.message } }, "database unavailable");
      return errorResponse(c, 503, "SERVICE_UNAVAILABLE", "The database is unavailable; retry with backoff.");
    }
    logger.error({ requestId: c.get("requestId"), err: error }, "unhandled error");
    return errorResponse(c, 500, "INTERNAL_ERROR", "Something went wrong on our side.");
  };
}
