import type { AuthVariables } from "./auth/middleware.ts";

/** Variables every marketplace route can read from the context. */
export type AppEnv = { Variables: AuthVariables & { requestId: string } };
