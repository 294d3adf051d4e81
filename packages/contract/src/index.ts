export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./identity.ts";
