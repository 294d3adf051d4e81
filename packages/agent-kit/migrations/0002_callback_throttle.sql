-- Sign-in callback throttle (issue 9 §4): one fixed-window counter per client address, shared by every
-- process of the agent, so a flood of forged callbacks cannot spend the marketplace's token-endpoint budget.
create table "agent_kit_throttle" ("key" text not null primary key, "windowStart" timestamptz not null, "count" integer not null);
