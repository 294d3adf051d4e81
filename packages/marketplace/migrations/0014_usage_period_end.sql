-- A subscription cancelled at its period end, or with a downgrade scheduled for it, stops counting as live the
-- moment that period ends, also for a consume or release that arrives before any read has settled the change
-- (subscriptions/period-end.ts settles lazily, on reads). usage_position now ignores such a row, so the
-- charge answers `no_subscription`; the service then settles the user's period ends and runs the call once
-- more, landing on the scheduled tier if there is one (usage/service.ts). Only the WHERE clause changes from 0006.

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
   WHERE s."userId" = p_user AND s."agentId" = p_agent AND s."status" IN ('active', 'trialing')
     AND NOT (s."cancelAtPeriodEnd" AND s."currentPeriodEnd" <= p_now);
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
