import { traceLogFields } from "@amp/telemetry";
import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Paths pino censors. Request logs carry the path only (never the query
 * string, which holds codes, state and id_token_hint), and no headers; these
 * paths catch secrets that reach a log through an error object or metadata.
 */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "id_token",
  "*.id_token",
  "code",
  "*.code",
  "code_verifier",
  "*.code_verifier",
  "client_secret",
  "*.client_secret",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "cookie",
  "*.cookie",
  "secret",
  "*.secret",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "marketplace" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceLogFields,
    },
    destination,
  );
}

export type { Logger };
