-- Audit trail of notable user events (CONTRACT.md §3: a new user writes a `user_signup` row).
CREATE TABLE "interactions" (
  "id" bigserial PRIMARY KEY,
  "userId" text REFERENCES "user" ("id") ON DELETE SET NULL,
  "type" text NOT NULL,
  "metadata" jsonb NOT NULL DEFAULT '{}'::jsonb,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "interactions_userId_idx" ON "interactions" ("userId", "createdAt");
