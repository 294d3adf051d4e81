import { z } from "zod";

/**
 * The closed set of `error.code` values (CONTRACT.md §4) and the HTTP status
 * each one travels with. Servers map internal failures onto these; the SDK
 * picks its error subclass from them. One deliberate exception to the 1:1
 * mapping: an oversized body answers HTTP 413 with code `BAD_REQUEST`, so the
 * set stays closed.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE_ENTITY: 422,
  QUOTA_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/** Default human-readable message per code; routes may pass a more specific one. */
export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  BAD_REQUEST: "The request is malformed or failed validation.",
  UNAUTHORIZED: "Sign in to continue.",
  PAYMENT_REQUIRED: "An active subscription is required.",
  FORBIDDEN: "You do not have permission to do this.",
  NOT_FOUND: "Not found.",
  CONFLICT: "This conflicts with an existing resource.",
  UNPROCESSABLE_ENTITY: "The request cannot be processed.",
  QUOTA_EXCEEDED: "The quota for this metric is exhausted.",
  INTERNAL_ERROR: "Something went wrong on our side.",
  SERVICE_UNAVAILABLE: "A dependency is unavailable; retry with backoff.",
};

/** One validation problem, as carried in `details.errors` of a 400. */
export const FieldErrorSchema = z.object({
  field: z.string(),
  constraints: z.array(z.string()),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;
