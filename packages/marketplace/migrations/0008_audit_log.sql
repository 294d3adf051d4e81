-- The audit log: who changed what (platform admins, operator commands) and security events.
-- Append-only, enforced here rather than trusted to the application: the services run as one
-- database role that owns every table (and PGlite has no roles to speak of), so a REVOKE would
-- bind nobody; triggers refuse UPDATE, DELETE and TRUNCATE for whoever runs them. A superuser
-- can still drop the triggers: this guards against application bugs and injected SQL, and an
-- operator who needs tamper evidence against the DBA ships these rows elsewhere as well.
CREATE TABLE "audit_log" (
  "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "at" timestamptz NOT NULL DEFAULT now(),
  -- A user id, or "cli" for operator commands; null when nobody is known (system, anonymous).
  "actorId" text,
  "actorKind" text NOT NULL CHECK ("actorKind" IN ('user', 'admin_token', 'cli', 'system', 'anonymous')),
  "action" text NOT NULL,
  "targetType" text NOT NULL,
  "targetId" text,
  "before" jsonb,
  "after" jsonb,
  "requestId" text
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" ("at", "id");
--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" ("actorId", "id");
--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" ("action", "id");
--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" ("targetType", "targetId", "id");
--> statement-breakpoint
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_log_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();
--> statement-breakpoint
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
