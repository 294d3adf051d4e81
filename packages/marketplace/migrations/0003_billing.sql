-- Catalog, pricing tiers, metrics, quotas, subscriptions, addons, usage metering and Stripe events
-- (CONTRACT.md §5–7). Money is numeric; counters are bigint; every timestamp is timestamptz.

CREATE TABLE "agents" (
  "id" text PRIMARY KEY,
  "name" text NOT NULL,
  "slug" text NOT NULL UNIQUE,
  "tagline" text,
  "description" text,
  "longDescription" text,
  "iconUrl" text,
  "photoUrls" jsonb NOT NULL DEFAULT '[]'::jsonb,
  "status" text NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'coming_soon', 'active', 'inactive')),
  "featured" boolean NOT NULL DEFAULT false,
  "isNew" boolean NOT NULL DEFAULT false,
  "productDomain" text,
  "docsUrl" text,
  "changelogUrl" text,
  "oauthClientId" text NOT NULL UNIQUE REFERENCES "oauthClient" ("clientId"),
  "redirectUris" jsonb NOT NULL,
  "postLogoutRedirectUris" jsonb NOT NULL DEFAULT '[]'::jsonb,
  "createdBy" text REFERENCES "user" ("id") ON DELETE SET NULL,
  "publishedAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "agents_status_idx" ON "agents" ("status", "id");
--> statement-breakpoint

CREATE TABLE "agent_pricing_tiers" (
  "id" text PRIMARY KEY,
  "agentId" text NOT NULL REFERENCES "agents" ("id"),
  "tierName" text NOT NULL,
  "isFree" boolean NOT NULL,
  "price" numeric(10, 2) NOT NULL DEFAULT 0 CHECK ("price" >= 0),
  "currency" char(3) NOT NULL DEFAULT 'USD',
  "billingInterval" text NOT NULL DEFAULT 'month' CHECK ("billingInterval" IN ('month', 'year', 'one_time')),
  "featuresIncluded" jsonb NOT NULL DEFAULT '[]'::jsonb,
  "recommended" boolean NOT NULL DEFAULT false,
  "trialDays" integer NOT NULL DEFAULT 0 CHECK ("trialDays" >= 0),
  "sortOrder" integer NOT NULL DEFAULT 0,
  "stripeProductId" text,
  "stripePriceId" text UNIQUE,
  "archivedAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX "tiers_agent_name_live_uidx" ON "agent_pricing_tiers" ("agentId", "tierName") WHERE "archivedAt" IS NULL;
--> statement-breakpoint

CREATE TABLE "agent_metric_definitions" (
  "id" text PRIMARY KEY,
  "agentId" text NOT NULL REFERENCES "agents" ("id"),
  "slug" text NOT NULL,
  "displayName" text NOT NULL,
  "unit" text NOT NULL,
  "kind" text NOT NULL CHECK ("kind" IN ('fixed', 'rolling')),
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  UNIQUE ("agentId", "slug")
);
--> statement-breakpoint

CREATE TABLE "tier_metric_quotas" (
  "tierId" text NOT NULL REFERENCES "agent_pricing_tiers" ("id"),
  "metricId" text NOT NULL REFERENCES "agent_metric_definitions" ("id"),
  -- NULL = unlimited, 0 = deny, n > 0 = cap. No row = deny.
  "quotaLimit" bigint CHECK ("quotaLimit" >= 0),
  PRIMARY KEY ("tierId", "metricId")
);
--> statement-breakpoint

CREATE TABLE "user_agent_subscriptions" (
  "id" text PRIMARY KEY,
  "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
  "agentId" text NOT NULL REFERENCES "agents" ("id"),
  "tierId" text NOT NULL REFERENCES "agent_pricing_tiers" ("id"),
  "status" text NOT NULL CHECK ("status" IN ('active', 'trialing', 'past_due', 'incomplete', 'incomplete_expired', 'unpaid', 'canceled')),
  "stripeCustomerId" text,
  "stripeSubscriptionId" text UNIQUE,
  -- Rolling metrics reset every billing interval counted from this anchor.
  "periodAnchor" timestamptz NOT NULL DEFAULT now(),
  "currentPeriodEnd" timestamptz,
  "trialEndsAt" timestamptz,
  "cancelAtPeriodEnd" boolean NOT NULL DEFAULT false,
  "canceledAt" timestamptz,
  -- Time of the newest Stripe object state applied; older events never move the row backwards.
  "stripeStateAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_one_live_uidx" ON "user_agent_subscriptions" ("userId", "agentId")
  WHERE "status" IN ('active', 'trialing');
--> statement-breakpoint
CREATE INDEX "subscriptions_user_idx" ON "user_agent_subscriptions" ("userId", "agentId", "createdAt");
--> statement-breakpoint

CREATE TABLE "subscription_addons" (
  "id" text PRIMARY KEY,
  "subscriptionId" text NOT NULL REFERENCES "user_agent_subscriptions" ("id") ON DELETE CASCADE,
  "metricId" text NOT NULL REFERENCES "agent_metric_definitions" ("id"),
  "amount" bigint NOT NULL CHECK ("amount" > 0),
  "scope" text NOT NULL CHECK ("scope" IN ('one_cycle', 'permanent')),
  -- one_cycle: the end of the period in which it was granted.
  "expiresAt" timestamptz,
  "revokedAt" timestamptz,
  "grantedBy" text REFERENCES "user" ("id") ON DELETE SET NULL,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "addons_subscription_metric_idx" ON "subscription_addons" ("subscriptionId", "metricId");
--> statement-breakpoint

CREATE TABLE "usage_counters" (
  "subscriptionId" text NOT NULL REFERENCES "user_agent_subscriptions" ("id") ON DELETE CASCADE,
  "metricId" text NOT NULL REFERENCES "agent_metric_definitions" ("id"),
  "used" bigint NOT NULL DEFAULT 0 CHECK ("used" >= 0),
  -- Start of the period `used` counts (rolling metrics); NULL for fixed metrics.
  "periodStart" timestamptz,
  PRIMARY KEY ("subscriptionId", "metricId")
);
--> statement-breakpoint

-- Append-only. One row per applied consume or release; clientReqId makes retries idempotent.
CREATE TABLE "usage_ledger" (
  "id" bigserial PRIMARY KEY,
  "clientReqId" text NOT NULL UNIQUE,
  "action" text NOT NULL CHECK ("action" IN ('consume', 'release')),
  "userId" text NOT NULL,
  "agentId" text NOT NULL,
  "subscriptionId" text NOT NULL,
  "metricId" text NOT NULL,
  "metricSlug" text NOT NULL,
  "kind" text NOT NULL,
  "delta" bigint NOT NULL,
  "usedAfter" bigint NOT NULL,
  "effectiveQuota" bigint,
  "resetsAt" timestamptz,
  "metadata" jsonb,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "ledger_subscription_metric_idx" ON "usage_ledger" ("subscriptionId", "metricId");
--> statement-breakpoint

CREATE TABLE "stripe_events" (
  "id" text PRIMARY KEY,
  "type" text NOT NULL,
  "eventCreatedAt" timestamptz NOT NULL,
  "payload" jsonb NOT NULL,
  "status" text NOT NULL CHECK ("status" IN ('received', 'processed', 'error')),
  "error" text,
  "attempts" integer NOT NULL DEFAULT 0,
  "receivedAt" timestamptz NOT NULL DEFAULT now(),
  "processedAt" timestamptz
);
--> statement-breakpoint

-- The billing period of `step_months` anchored at `anchor` that contains `now_ts`.
-- Mirrors periodContaining() in packages/contract/src/period.ts: months are added to the anchor
-- itself and PostgreSQL clamps the day to the month's end (Jan 31 + 1 month = Feb 28/29).
CREATE FUNCTION usage_period(anchor timestamptz, step_months integer, now_ts timestamptz,
                             OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE plpgsql STABLE SET "TimeZone" = 'UTC' AS $$
DECLARE
  k integer;
BEGIN
  IF now_ts < anchor THEN
    period_start := anchor;
    period_end := anchor + make_interval(months => step_months);
    RETURN;
  END IF;
  k := ((extract(year FROM now_ts)::integer - extract(year FROM anchor)::integer) * 12
        + extract(month FROM now_ts)::integer - extract(month FROM anchor)::integer) / step_months;
  WHILE k > 0 AND anchor + make_interval(months => k * step_months) > now_ts LOOP
    k := k - 1;
  END LOOP;
  WHILE anchor + make_interval(months => (k + 1) * step_months) <= now_ts LOOP
    k := k + 1;
  END LOOP;
  period_start := anchor + make_interval(months => k * step_months);
  period_end := anchor + make_interval(months => (k + 1) * step_months);
END $$;
--> statement-breakpoint

-- Quota position of one (user, agent, metric): which subscription and metric, the effective quota
-- (NULL = unlimited) and the current period. Shared by consume, release and the usage reads.
CREATE FUNCTION usage_position(p_user text, p_agent text, p_metric text, p_now timestamptz,
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
    SELECT p.period_start, p.period_end INTO period_start, period_end
      FROM usage_period(v_anchor, CASE WHEN v_interval = 'year' THEN 12 ELSE 1 END, p_now) p;
  END IF;
END $$;
--> statement-breakpoint

-- POST /me/agents/:agentId/usage/:metricSlug/consume in one round trip (CONTRACT.md §7).
-- Outcomes: ok | replay | conflict (clientReqId used for a different request) | no_subscription (402)
--           | metric_not_found (404) | quota_exceeded (429, nothing written).
CREATE FUNCTION usage_consume(p_user text, p_agent text, p_metric text, p_delta bigint, p_req text,
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
    INSERT INTO "usage_counters" AS c ("subscriptionId", "metricId", "used", "periodStart")
    VALUES (pos.subscription_id, pos.metric_id, p_delta, pos.period_start)
    ON CONFLICT ("subscriptionId", "metricId") DO UPDATE
       SET "used" = CASE WHEN c."periodStart" IS DISTINCT FROM EXCLUDED."periodStart"
                         THEN EXCLUDED."used" ELSE c."used" + EXCLUDED."used" END,
           "periodStart" = EXCLUDED."periodStart"
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
--> statement-breakpoint

-- POST .../release: fixed metrics only, never below zero, idempotent like consume.
-- Outcomes: ok | replay | conflict | no_subscription | metric_not_found | rolling_metric (422).
CREATE FUNCTION usage_release(p_user text, p_agent text, p_metric text, p_delta bigint, p_req text,
                              p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  pos record;
  prior record;
  v_used bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_req, 0));
  SELECT * INTO prior FROM "usage_ledger" l WHERE l."clientReqId" = p_req;
  IF FOUND THEN
    IF prior."action" <> 'release' OR prior."userId" <> p_user OR prior."agentId" <> p_agent
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
  IF pos.kind = 'rolling' THEN
    RETURN QUERY SELECT 'rolling_metric'::text, pos.kind, NULL::bigint, NULL::bigint, NULL::timestamptz;
    RETURN;
  END IF;

  UPDATE "usage_counters" c SET "used" = greatest(c."used" - p_delta, 0)
   WHERE c."subscriptionId" = pos.subscription_id AND c."metricId" = pos.metric_id
  RETURNING c."used" INTO v_used;
  v_used := coalesce(v_used, 0);

  INSERT INTO "usage_ledger" ("clientReqId", "action", "userId", "agentId", "subscriptionId", "metricId",
                              "metricSlug", "kind", "delta", "usedAfter", "effectiveQuota", "resetsAt", "createdAt")
  VALUES (p_req, 'release', p_user, p_agent, pos.subscription_id, pos.metric_id,
          p_metric, pos.kind, p_delta, v_used, pos.effective_quota, NULL, p_now);
  RETURN QUERY SELECT 'ok'::text, pos.kind, v_used, pos.effective_quota, NULL::timestamptz;
END $$;
