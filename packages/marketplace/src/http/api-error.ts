import { ERROR_MESSAGES, ERROR_STATUS, type ErrorCode } from "@amp/contract";

/**
 * The marketplace's one error type. Routes and services throw it; only the
 * app's `onError` turns it into the wire envelope.
 */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_MESSAGES[code],
    readonly details?: Record<string, unknown>,
    /** Overrides the code's status; used only for 413 (see ERROR_STATUS). */
    status?: number,
  ) {
    super(message);
    this.status = status ?? ERROR_STATUS[code];
  }
}

export { databaseErrorKind, isDatabaseUnavailable } from "@amp/db";
