-- Usage survives cancel → resubscribe and every plan change (issue 9 item 3).
--
-- A rolling counter used to be reset whenever its period start differed from the *live subscription's*
-- current period. A new subscription (resubscribe, upgrade, a Stripe checkout) starts a new anchor, so
-- the carried-over counter always differed and restarted from zero: cancel + pick Free again = fresh quota.
--
-- The rule now: usage counted in a period counts until *that* period ends, whichever subscription of the
-- (user, agent) counts it. A counter stores the end of its period; while it has not passed, that period
-- is the current one for the metric (usage_position reports it, consume adds to it, resetsAt names its
-- end). Once it has passed, the next consume starts a new count in the live subscription's own period.

ALTER TABLE "usage_counters" ADD COLUMN "periodEnd" timestamptz;
--> statement-breakpoint

-- Existing rolling counters were stamped with their subscription's period; recover its end from the anchor.
UPDATE "usage_counters" c
   SET "periodEnd" = (usage_period(s."periodAnchor", CASE WHEN t."billingInterval" = 'year' THEN 12 ELSE 1 END,
                                   c."periodStart")).period_end
  FROM "user_agent_subscriptions" s JOIN "agent_pricing_tiers" t ON t."id" = s."tierId"
 WHERE s."id" = c."subscriptionId" AND c."periodStart" IS NOT NULL;
--> statement-breakpoint

-- As in 0003, except the period of a rolling metric: the counter's own while it runs, else the subscription's.
CREATE OR REPLACE FUNCTION usage_position(p_user text, p_agent text, p_metric text, p_now timestamptz,
  OUT subscription_id text, OUT metric_id text, OUT kind text,
  OUT base_quota bigint, OUT addons_bonus bigint, OUT effective_quota bigint,
  OUT period_start timestamptz, OUT period_end timestamptz, OUT has_subscription boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_anchor timestamptz;
  v_interval text;
  v_tier text;
  v_has_row boolean;
BEGIN
  SELECT s."id", s."tierId", s."periodAnchor", t."billingInterval"
    INTO subscription_id, v_tier, v_anchor, v_interval
    FROM "user_agent_subscriptions" s JOIN "agent_pricing_tiers" t ON t."id" = s."tierId"
   WHERE s."userId" = p_user AND s."agentId" = p_agent AND s."status" IN ('active', 'trialing');
  has_subscription := FOUND;
  IF NOT has_subscription THEN RETURN; END IF;

  SELECT m."id", m."kind" INTO metric_id, kind
    FROM "agent_metric_definitions" m WHERE m."agentId" = p_agent AND m."slug" = p_metric;
  IF NOT FOUND THEN RETURN; END IF;

  SELECT true, q."quotaLimit" INTO v_has_row, base_quota
    FROM "tier_metric_quotas" q WHERE q."tierId" = v_tier AND q."metricId" = metric_id;
  IF NOT FOUND THEN base_quota := 0; END IF;  -- no row = deny

  SELECT coalesce(sum(a."amount"), 0)::bigint INTO addons_bonus
    FROM "subscription_addons" a
   WHERE a."subscriptionId" = subscription_id AND a."metricId" = metric_id AND a."revokedAt" IS NULL
     AND (a."scope" = 'permanent' OR a."expiresAt" > p_now);

  effective_quota := CASE WHEN v_has_row AND base_quota IS NULL THEN NULL ELSE base_quota + addons_bonus END;

  IF kind = 'rolling' THEN
    SELECT c."periodStart", c."periodEnd" INTO period_start, period_end
      FROM "usage_counters" c
     WHERE c."subscriptionId" = subscription_id AND c."metricId" = metric_id
       AND c."periodStart" <= p_now AND p_now < c."periodEnd";
    IF NOT FOUND THEN
      SELECT p.period_start, p.period_end INTO period_start, period_end
        FROM usage_period(v_anchor, CASE WHEN v_interval = 'year' THEN 12 ELSE 1 END, p_now) p;
    END IF;
  END IF;
END $$;
--> statement-breakpoint

-- As in 0003, except that a counter records the end of its period next to its start.
CREATE OR REPLACE FUNCTION usage_consume(p_user text, p_agent text, p_metric text, p_delta bigint, p_req text,
                                         p_metadata jsonb, p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  pos record;
  prior record;
  v_used bigint;
BEGIN
  -- Requests with one clientReqId take turns; the second sees the first's ledger row.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_req, 0));
  SELECT * INTO prior FROM "usage_ledger" l WHERE l."clientReqId" = p_req;
  IF FOUND THEN
    IF prior."action" <> 'consume' OR prior."userId" <> p_user OR prior."agentId" <> p_agent
       OR prior."metricSlug" <> p_metric OR prior."delta" <> p_delta THEN
      RETURN QUERY SELECT 'conflict'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz;
    ELSE
      RETURN QUERY SELECT 'replay'::text, prior."kind", prior."usedAfter", prior."effectiveQuota", prior."resetsAt";
    END IF;
    RETURN;
  END IF;

  SELECT * INTO pos FROM usage_position(p_user, p_agent, p_metric, p_now);
  IF NOT pos.has_subscription THEN
    RETURN QUERY SELECT 'no_subscription'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz;
    RETURN;
  END IF;
  IF pos.metric_id IS NULL THEN
    RETURN QUERY SELECT 'metric_not_found'::text, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz;
    RETURN;
  END IF;

  IF pos.effective_quota IS NULL OR p_delta <= pos.effective_quota THEN
    -- Conditional upsert: the row lock makes check-and-increment atomic; a new period starts from zero.
    INSERT INTO "usage_counters" AS c ("subscriptionId", "metricId", "used", "periodStart", "periodEnd")
    VALUES (pos.subscription_id, pos.metric_id, p_delta, pos.period_start, pos.period_end)
    ON CONFLICT ("subscriptionId", "metricId") DO UPDATE
       SET "used" = CASE WHEN c."periodStart" IS DISTINCT FROM EXCLUDED."periodStart"
                         THEN EXCLUDED."used" ELSE c."used" + EXCLUDED."used" END,
           "periodStart" = EXCLUDED."periodStart",
           "periodEnd" = EXCLUDED."periodEnd"
     WHERE pos.effective_quota IS NULL
        OR CASE WHEN c."periodStart" IS DISTINCT FROM EXCLUDED."periodStart" THEN 0 ELSE c."used" END
           + EXCLUDED."used" <= pos.effective_quota
    RETURNING c."used" INTO v_used;
  END IF;

  IF v_used IS NULL THEN
    SELECT CASE WHEN c."periodStart" IS DISTINCT FROM pos.period_start THEN 0 ELSE c."used" END INTO v_used
      FROM "usage_counters" c WHERE c."subscriptionId" = pos.subscription_id AND c."metricId" = pos.metric_id;
    RETURN QUERY SELECT 'quota_exceeded'::text, pos.kind, coalesce(v_used, 0), pos.effective_quota, pos.period_end;
    RETURN;
  END IF;

  INSERT INTO "usage_ledger" ("clientReqId", "action", "userId", "agentId", "subscriptionId", "metricId",
                              "metricSlug", "kind", "delta", "usedAfter", "effectiveQuota", "resetsAt", "metadata", "createdAt")
  VALUES (p_req, 'consume', p_user, p_agent, pos.subscription_id, pos.metric_id,
          p_metric, pos.kind, p_delta, v_used, pos.effective_quota, pos.period_end, p_metadata, p_now);
  RETURN QUERY SELECT 'ok'::text, pos.kind, v_used, pos.effective_quota, pos.period_end;
END $$;
