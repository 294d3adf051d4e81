-- Plan changes that wait for the period end (issue 12): cancel at period end keeps access until
-- "currentPeriodEnd", and a move from a paid tier to a free one is scheduled for that moment instead
-- of being refused. The transition is applied where subscriptions are read, in one transaction under
-- the (user, agent) lock (subscriptions/period-end.ts), so it holds across instances without timers.

ALTER TABLE "user_agent_subscriptions" ADD COLUMN "scheduledTierId" text;
--> statement-breakpoint

-- The read path looks for due rows of one user on every subscription read: keep that an index probe.
CREATE INDEX "user_agent_subscriptions_period_end_due_idx"
  ON "user_agent_subscriptions" ("userId", "currentPeriodEnd")
  WHERE "cancelAtPeriodEnd" AND "status" IN ('active', 'trialing');
