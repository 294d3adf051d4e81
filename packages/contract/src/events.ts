/**
 * The events the marketplace pushes to an agent's webhook endpoints (docs/agent-events.md): one list for the
 * marketplace that emits them and agent-kit that receives them.
 */
export const AGENT_EVENT_TYPES = [
  "subscription.created",
  "subscription.updated",
  "subscription.canceled",
  "entitlements.updated",
  "agent.status_changed",
] as const;
export type AgentEventType = (typeof AGENT_EVENT_TYPES)[number];
