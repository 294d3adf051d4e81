import type { AuthVariables } from "./auth/middleware.ts";

/** Variables every marketplace route can read from the context. */
export type AppEnv = {
  Variables: AuthVariables & {
    requestId: string;
    /** The real client's address (http/client-address.ts); undefined outside the HTTP server. */
    clientAddress: string | undefined;
  };
};
