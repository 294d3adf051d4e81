export { traceLogFields } from "./log-fields.ts";
export { startTracing, type Tracing, type TracingSettings } from "./sdk.ts";
