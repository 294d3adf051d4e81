import type {
  AgentDto,
  MeDto,
  MetricDefinitionDto,
  MetricUsageDto,
  PricingTierDto,
  QuotaDto,
  Role,
  SubscriptionDto,
} from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { ApiError, api } from "./client.ts";

/** Query keys in one place, so a change can invalidate exactly what it affects. */
export const keys = {
  me: ["me"] as const,
  agents: ["agents"] as const,
  agent: (slug: string) => ["agent", slug] as const,
  pricing: (agentId: string) => ["pricing", agentId] as const,
  subscriptions: ["subscriptions"] as const,
  usage: (agentId: string) => ["usage", agentId] as const,
};

/** The signed-in user, with the role under the name agents know it by (`marketplaceRole`). */
export type Me = MeDto & { marketplaceRole: Role };

/**
 * The signed-in user, or `null` for a visitor. `isAdmin` gates the console:
 * the server enforces the role on every admin route; this only hides the link.
 */
export function useMe() {
  const query = useQuery({
    queryKey: keys.me,
    queryFn: async (): Promise<Me | null> => {
      try {
        const me = await api<MeDto>("/me");
        return { ...me, marketplaceRole: me.role };
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
  const me = query.data ?? null;
  return { ...query, me, isAdmin: me?.marketplaceRole === "platform_admin" };
}

/** Every listed agent (the catalog reads up to 100; the marketplace is small). */
export function useAgents() {
  return useQuery({ queryKey: keys.agents, queryFn: () => api<AgentDto[]>("/agents?limit=100") });
}

export function useAgent(slug: string) {
  return useQuery({
    queryKey: keys.agent(slug),
    queryFn: () => api<AgentDto>(`/agents/by-slug/${encodeURIComponent(slug)}`),
  });
}

export interface TierWithQuotas {
  tier: PricingTierDto;
  quotas: QuotaDto[];
}
export interface AgentPricing {
  tiers: TierWithQuotas[];
  metrics: MetricDefinitionDto[];
}

/** An agent's tiers with their quotas, and its metric definitions (what a plan card shows). */
export function usePricing(agentId: string | undefined) {
  return useQuery({
    queryKey: keys.pricing(agentId ?? ""),
    enabled: Boolean(agentId),
    queryFn: async (): Promise<AgentPricing> => {
      const id = encodeURIComponent(agentId!);
      const [tiers, metrics] = await Promise.all([
        api<PricingTierDto[]>(`/agents/${id}/pricing`),
        api<MetricDefinitionDto[]>(`/agents/${id}/metrics`),
      ]);
      const withQuotas = await Promise.all(
        tiers.map(async (tier) => ({
          tier,
          quotas: await api<QuotaDto[]>(`/agents/${id}/pricing/${encodeURIComponent(tier.id)}/quotas`),
        })),
      );
      return { tiers: withQuotas, metrics };
    },
  });
}

export function useSubscriptions(enabled = true) {
  return useQuery({
    queryKey: keys.subscriptions,
    enabled,
    queryFn: () => api<SubscriptionDto[]>("/me/subscriptions"),
  });
}

export function useUsage(agentId: string, enabled = true) {
  return useQuery({
    queryKey: keys.usage(agentId),
    enabled,
    queryFn: () => api<MetricUsageDto[]>(`/me/agents/${encodeURIComponent(agentId)}/usage`),
  });
}
