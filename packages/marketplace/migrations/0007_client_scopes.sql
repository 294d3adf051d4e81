-- Clients registered before `marketplace:admin` existed had no scope list (every provider scope
-- allowed). Limit them to the agent scopes so none of them can be granted the admin scope.
UPDATE "oauthClient"
SET "scopes" = '["openid","profile","email","marketplace:role","marketplace:installs","marketplace:agentTiers","offline_access"]'::jsonb
WHERE "scopes" IS NULL;
