export * from "./audit.ts";
export * from "./billing.ts";
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./identity.ts";
export * from "./json-limits.ts";
export * from "./period.ts";
export * from "./redirect.ts";
