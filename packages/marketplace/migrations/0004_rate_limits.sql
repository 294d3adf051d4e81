-- Rate-limit counters shared by every marketplace instance (src/rate-limit/postgres-store.ts).
-- One row per bucket key, updated by one INSERT … ON CONFLICT DO UPDATE per request; a row
-- whose window has expired restarts at 1 and expired rows are swept in the background.
-- UNLOGGED: counters are not worth WAL; after a crash they restart empty.
CREATE UNLOGGED TABLE "rate_limits" (
  "key" text PRIMARY KEY,
  "count" integer NOT NULL,
  "expiresAt" timestamptz NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rate_limits_expiresAt_idx" ON "rate_limits" ("expiresAt");
