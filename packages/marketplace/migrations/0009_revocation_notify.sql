-- Every instance caches bearer lookups briefly (auth/bearer.ts). Whatever ends a token's
-- validity notifies them all on channel "bearer_revoked", from the database itself, so no code
-- path (revoke endpoint, sign-out, code replay, family invalidation, ban, client deactivation,
-- a cascade) can forget to: 'token:<hash>', 'user:<id>' or 'client:<clientId>'.

CREATE FUNCTION notify_bearer_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'oauthAccessToken' THEN
    PERFORM pg_notify('bearer_revoked', 'token:' || OLD.token);
  ELSIF TG_TABLE_NAME = 'user' THEN
    PERFORM pg_notify('bearer_revoked', 'user:' || OLD.id);
  ELSIF TG_TABLE_NAME = 'oauthClient' THEN
    PERFORM pg_notify('bearer_revoked', 'client:' || OLD."clientId");
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER access_token_deleted AFTER DELETE ON "oauthAccessToken"
  FOR EACH ROW EXECUTE FUNCTION notify_bearer_revoked();
--> statement-breakpoint

CREATE TRIGGER access_token_revoked AFTER UPDATE OF revoked ON "oauthAccessToken"
  FOR EACH ROW WHEN (NEW.revoked IS DISTINCT FROM OLD.revoked) EXECUTE FUNCTION notify_bearer_revoked();
--> statement-breakpoint

CREATE TRIGGER user_banned AFTER UPDATE OF banned ON "user"
  FOR EACH ROW WHEN (NEW.banned IS DISTINCT FROM OLD.banned) EXECUTE FUNCTION notify_bearer_revoked();
--> statement-breakpoint

CREATE TRIGGER client_disabled AFTER UPDATE OF disabled ON "oauthClient"
  FOR EACH ROW WHEN (NEW.disabled IS DISTINCT FROM OLD.disabled) EXECUTE FUNCTION notify_bearer_revoked();
