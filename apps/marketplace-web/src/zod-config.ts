import { config } from "zod";

/**
 * Zod 4 probes for `new Function` to speed up object parsing; under this app's
 * Content-Security-Policy (no 'unsafe-eval') the probe is refused and Chrome
 * logs a CSP violation on every load. Parse without it. Imported first in
 * main.tsx, before any schema is built.
 */
config({ jitless: true });
