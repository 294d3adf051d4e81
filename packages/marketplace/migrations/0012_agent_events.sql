-- Events pushed to agents (docs/agent-events.md): webhook endpoints with their signing secrets,
-- the outbox of events (written in the same transaction as the change that caused them), the
-- per-(user, agent) sequence counter, and one delivery row per (event, endpoint) as the delivery log.
-- Delivery itself (retries with backoff, one worker per job across instances) is pg-boss's job
-- (schema "pgboss", created by pg-boss at start); "jobId" links a delivery to its job.
CREATE TABLE "webhook_endpoints" (
  "id" text PRIMARY KEY,
  "agentId" text NOT NULL REFERENCES "agents" ("id") ON DELETE CASCADE,
  "url" text NOT NULL,
  "description" text,
  -- whsec_<base64 key>; shown to the caller once, at creation and at rotation.
  "secret" text NOT NULL,
  -- During a rotation's overlap the previous secret signs as well, until this time.
  "previousSecret" text,
  "previousSecretExpiresAt" timestamptz,
  "disabledAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now(),
  UNIQUE ("agentId", "url")
);
--> statement-breakpoint
CREATE TABLE "webhook_sequences" (
  "agentId" text NOT NULL,
  -- '' for agent-wide events (agent.status_changed).
  "userId" text NOT NULL,
  "last" bigint NOT NULL,
  PRIMARY KEY ("agentId", "userId")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
  "id" text PRIMARY KEY,
  "agentId" text NOT NULL,
  "userId" text,
  "type" text NOT NULL,
  "sequence" bigint NOT NULL,
  -- The exact JSON body every endpoint receives (signed as sent).
  "payload" jsonb NOT NULL,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "webhook_events_agent_idx" ON "webhook_events" ("agentId", "createdAt");
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
  "id" text PRIMARY KEY,
  "eventId" text NOT NULL REFERENCES "webhook_events" ("id") ON DELETE CASCADE,
  "endpointId" text NOT NULL REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE,
  "status" text NOT NULL CHECK ("status" IN ('pending', 'delivered', 'failed')),
  "attempts" integer NOT NULL DEFAULT 0,
  "lastStatusCode" integer,
  "lastError" text,
  "lastAttemptAt" timestamptz,
  "deliveredAt" timestamptz,
  -- Set by the relay when it hands the delivery to pg-boss (null: still in the outbox).
  "jobId" text,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" ("endpointId", "createdAt");
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_outbox_idx" ON "webhook_deliveries" ("createdAt") WHERE "jobId" IS NULL;
