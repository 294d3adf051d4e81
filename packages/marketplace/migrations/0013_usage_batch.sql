-- Group commit for metering (issue 13): many consumes (or releases) in one statement, so in one
-- transaction and one commit. Commit latency, not the SQL, bounds one consume per transaction.
--
-- Each item runs through the very same per-call function as alone (usage_consume_as / usage_consume,
-- usage_release_as / usage_release), so every item gets exactly the outcome it would get alone, in
-- the order below. Lock order is deterministic, so two batches (on any instances) cannot deadlock:
--   1. every clientReqId's advisory lock first, sorted by its hash (the per-call function re-takes it:
--      advisory locks are re-entrant within a transaction);
--   2. then the items sorted by counter key (user, agent, metric — one live subscription per (user, agent)),
--      ties by clientReqId and arrival, taking the token row share lock and the counter row lock.
-- A duplicate clientReqId inside one batch sees the earlier item's ledger row (same transaction):
-- `replay`, or `conflict` if it differs, exactly as two requests taking turns.
-- Any error aborts the whole statement: nothing of the batch is applied, and the caller retries each
-- item alone (usage/group-commit.ts).
-- Returns one row per item, `ord` being its 1-based position in the input arrays.

CREATE FUNCTION usage_consume_batch(p_tokens text[], p_users text[], p_agents text[], p_metrics text[],
                                    p_deltas bigint[], p_reqs text[], p_metadata jsonb[],
                                    p_now timestamptz DEFAULT now())
RETURNS TABLE (ord integer, outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  item record;
  res record;
BEGIN
  PERFORM pg_advisory_xact_lock(h.k)
     FROM (SELECT DISTINCT hashtextextended(r, 0) AS k FROM unnest(p_reqs) AS r ORDER BY 1) h;
  FOR item IN
    SELECT i.* FROM unnest(p_tokens, p_users, p_agents, p_metrics, p_deltas, p_reqs, p_metadata)
                    WITH ORDINALITY AS i(token, user_id, agent_id, metric, delta, req, metadata, n)
     ORDER BY i.user_id, i.agent_id, i.metric, i.req, i.n
  LOOP
    IF item.token IS NULL THEN
      SELECT * INTO res FROM usage_consume(item.user_id, item.agent_id, item.metric, item.delta, item.req,
                                           item.metadata, p_now);
    ELSE
      SELECT * INTO res FROM usage_consume_as(item.token, item.user_id, item.agent_id, item.metric, item.delta,
                                              item.req, item.metadata, p_now);
    END IF;
    ord := item.n;
    outcome := res.outcome;
    kind := res.kind;
    used := res.used;
    effective_quota := res.effective_quota;
    resets_at := res.resets_at;
    RETURN NEXT;
  END LOOP;
END $$;
--> statement-breakpoint

CREATE FUNCTION usage_release_batch(p_tokens text[], p_users text[], p_agents text[], p_metrics text[],
                                    p_deltas bigint[], p_reqs text[], p_now timestamptz DEFAULT now())
RETURNS TABLE (ord integer, outcome text, kind text, used bigint, effective_quota bigint, resets_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  item record;
  res record;
BEGIN
  PERFORM pg_advisory_xact_lock(h.k)
     FROM (SELECT DISTINCT hashtextextended(r, 0) AS k FROM unnest(p_reqs) AS r ORDER BY 1) h;
  FOR item IN
    SELECT i.* FROM unnest(p_tokens, p_users, p_agents, p_metrics, p_deltas, p_reqs)
                    WITH ORDINALITY AS i(token, user_id, agent_id, metric, delta, req, n)
     ORDER BY i.user_id, i.agent_id, i.metric, i.req, i.n
  LOOP
    IF item.token IS NULL THEN
      SELECT * INTO res FROM usage_release(item.user_id, item.agent_id, item.metric, item.delta, item.req, p_now);
    ELSE
      SELECT * INTO res FROM usage_release_as(item.token, item.user_id, item.agent_id, item.metric, item.delta,
                                              item.req, p_now);
    END IF;
    ord := item.n;
    outcome := res.outcome;
    kind := res.kind;
    used := res.used;
    effective_quota := res.effective_quota;
    resets_at := res.resets_at;
    RETURN NEXT;
  END LOOP;
END $$;
