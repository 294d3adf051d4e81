import type { AgentDto, MetricDefinitionDto } from "@amp/contract";
import { type QueryKey, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client.ts";

/** Console query keys (separate from the app's, so console edits refresh exactly the console's views). */
export const consoleKeys = {
  agents: ["console", "agents"] as const,
  agent: (id: string) => ["console", "agent", id] as const,
  metrics: (id: string) => ["console", "metrics", id] as const,
  tiers: (id: string) => ["console", "tiers", id] as const,
  users: (q: string) => ["console", "users", q] as const,
  subscriptions: (q: string) => ["console", "subscriptions", q] as const,
  subscription: (id: string) => ["console", "subscription", id] as const,
  stripe: (status: string) => ["console", "stripe", status] as const,
  audit: (q: string) => ["console", "audit", q] as const,
};

/** Every agent, drafts and inactive ones included (the agents page, the subscriptions filter). */
export function useConsoleAgents() {
  return useQuery({
    queryKey: consoleKeys.agents,
    queryFn: () => api<AgentDto[]>("/agents?all=true&limit=100"),
  });
}

/** An agent's metric definitions (its metrics editor, and the quota rows of its tiers). */
export function useConsoleMetrics(agentId: string) {
  return useQuery({
    queryKey: consoleKeys.metrics(agentId),
    queryFn: () => api<MetricDefinitionDto[]>(`/agents/${encodeURIComponent(agentId)}/metrics`),
  });
}

/** A console action: runs `fn`, then refreshes every view under `invalidate` (prefix match). */
export function useAction<A, R>(fn: (args: A) => Promise<R>, invalidate: QueryKey[]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async () => {
      await Promise.all(invalidate.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}

/** The form's text for an optional field: empty text means null. */
export const orNull = (value: FormDataEntryValue | null) => {
  const text = typeof value === "string" ? value.trim() : "";
  return text === "" ? null : text;
};
