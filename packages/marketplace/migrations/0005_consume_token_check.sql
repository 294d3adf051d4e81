-- Consume and release on behalf of an opaque access token check that token inside the same
-- transaction that charges (issue 10 item 2): once a revocation is acknowledged (committed), no
-- unit is ever charged with the token again, whatever any instance's bearer cache still holds.
-- The token row is share-locked: a revocation waits for consumes already past the check, and a
-- consume that arrives during a revocation waits for it and then sees the token revoked or gone.

CREATE FUNCTION bearer_token_live(p_token text, p_user text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1
     FROM "oauthAccessToken" t
     JOIN "oauthClient" c ON c."clientId" = t."clientId"
     JOIN "user" u ON u.id = t."userId"
    WHERE t.token = p_token AND t."userId" = p_user AND t.revoked IS NULL AND t."expiresAt" > now()
      AND NOT coalesce(c.disabled, false) AND NOT coalesce(u.banned, false)
      FOR SHARE OF t;
  RETURN FOUND;
END $$;
--> statement-breakpoint

CREATE FUNCTION usage_consume_as(p_token text, p_user text, p_agent text, p_metric text, p_delta bigint,
                                 p_req text, p_metadata jsonb, p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT bearer_token_live(p_token, p_user) THEN
    RETURN QUERY SELECT 'token_revoked'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz;
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM usage_consume(p_user, p_agent, p_metric, p_delta, p_req, p_metadata, p_now);
END $$;
--> statement-breakpoint

CREATE FUNCTION usage_release_as(p_token text, p_user text, p_agent text, p_metric text, p_delta bigint,
                                 p_req text, p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT bearer_token_live(p_token, p_user) THEN
    RETURN QUERY SELECT 'token_revoked'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz;
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM usage_release(p_user, p_agent, p_metric, p_delta, p_req, p_now);
END $$;
