/** @jsxImportSource react */
import { CHECKOUT_POLL } from "@amp/contract";
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { useMarketplaceEventsWith } from "./webhooks/react-events.ts";

/** What the agent backend's agent-kit routes answer (see ./express). */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  marketplaceRole: string;
}
export interface TierInfo {
  tierName: string;
  status: string;
  /** The marketplace subscription behind it (a paid plan canceled at its period end still says so here). */
  subscription?: { cancelAtPeriodEnd: boolean; currentPeriodEnd: string | null };
}
export interface UsageInfo {
  metricSlug: string;
  displayName: string;
  unit: string;
  kind: "fixed" | "rolling";
  effectiveQuota: number | null;
  used: number;
  remaining: number | null;
  resetsAt: string | null;
}
/** The 402/429 bodies agent-kit's `chargeable()` answers. */
export type UpgradePayload =
  | { error: "quota_exceeded"; upgradeUrl: string; resetsAt: string | null; remaining: number }
  | { error: "subscription_required"; subscribe: true; upgradeUrl: string };

/** An agent API failure with the parsed body. */
export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(`agent API answered ${status}`);
  }
}

interface Ctx {
  apiBase: string;
  request<T>(path: string, init?: RequestInit): Promise<T>;
}
const MarketplaceContext = createContext<Ctx | null>(null);

function useCtx(): Ctx {
  const ctx = useContext(MarketplaceContext);
  if (!ctx) throw new Error("agent-kit/react hooks need a <MarketplaceProvider>");
  return ctx;
}

/**
 * Provides the agent backend's base URL (empty for same-origin) and a
 * TanStack Query client. Requests carry cookies (`credentials: "include"`)
 * and an `x-requested-with` header for the backend's CSRF checks.
 */
export function MarketplaceProvider(props: {
  apiBase?: string;
  queryClient?: QueryClient;
  children: ReactNode;
}) {
  const [client] = useState(
    () => props.queryClient ?? new QueryClient({ defaultOptions: { queries: { retry: false } } }),
  );
  const apiBase = (props.apiBase ?? "").replace(/\/+$/, "");
  const request = useCallback(
    async <T,>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${apiBase}${path}`, {
        credentials: "include",
        ...init,
        headers: {
          accept: "application/json",
          "x-requested-with": "agent-kit",
          ...(init.headers as Record<string, string>),
        },
      });
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) throw new AgentApiError(response.status, body);
      return body as T;
    },
    [apiBase],
  );
  return (
    <MarketplaceContext.Provider value={{ apiBase, request }}>
      <QueryClientProvider client={client}>{props.children}</QueryClientProvider>
    </MarketplaceContext.Provider>
  );
}

/**
 * Marketplace events pushed to this browser (webhooks/react-events.ts): the tier and usage refresh the
 * moment the marketplace reports a change. Call it once, inside the provider, when a user is signed in.
 */
export function useMarketplaceEvents(
  options: { enabled?: boolean; onEvent?: (event: import("./webhooks/events.ts").BrowserEvent) => void } = {},
) {
  return useMarketplaceEventsWith(useCtx().apiBase, options);
}

/** The signed-in user (`GET /me`), or null when signed out. */
export function useSession() {
  const { request } = useCtx();
  const query = useQuery({
    queryKey: ["agent-kit", "session"],
    queryFn: async () => {
      try {
        return await request<SessionUser>("/me");
      } catch (error) {
        if (error instanceof AgentApiError && error.status === 401) return null;
        throw error;
      }
    },
  });
  return { user: query.data ?? null, isLoading: query.isLoading, error: query.error };
}

/** True while the URL says the browser just came back from checkout (`?checkout=…`). */
function returningFromCheckout() {
  return typeof window !== "undefined" && new URLSearchParams(window.location.search).has("checkout");
}

/**
 * The live tier (`GET /api/me/tier`). Refetches on window focus; after a
 * checkout return it polls every 1.5 s for up to 15 s (CONTRACT.md §6) so a
 * webhook that lands late still shows up. `checkoutPolling: false` switches
 * that polling off (read on every tick, so it can change), e.g. while
 * `useMarketplaceEvents()` is connected: the pushed event refreshes the tier.
 * The first read after the return still bypasses the tier cache. A 402 is
 * `{ subscriptionRequired }`.
 */
export function useTier(options: { checkoutPolling?: boolean } = {}) {
  const checkoutPolling = options.checkoutPolling ?? true;
  const { request } = useCtx();
  const [pollUntil, setPollUntil] = useState(() =>
    returningFromCheckout() ? Date.now() + CHECKOUT_POLL.timeoutMs : 0,
  );
  const query = useQuery({
    queryKey: ["agent-kit", "tier"],
    queryFn: () => request<TierInfo>(`/api/me/tier${pollUntil ? "?refresh=true" : ""}`),
    refetchOnWindowFocus: true,
    refetchInterval: () => (checkoutPolling && Date.now() < pollUntil ? CHECKOUT_POLL.intervalMs : false),
  });
  useEffect(() => {
    if (!pollUntil) return;
    const timer = setTimeout(() => setPollUntil(0), Math.max(pollUntil - Date.now(), 0));
    return () => clearTimeout(timer);
  }, [pollUntil]);
  const error = query.error instanceof AgentApiError ? query.error : null;
  return {
    tier: query.data ?? null,
    isLoading: query.isLoading,
    isFinalizing: pollUntil > Date.now(),
    subscriptionRequired: error?.status === 402 ? (error.body as UpgradePayload) : null,
    error: query.error,
    refetch: query.refetch,
  };
}

/** Usage of every metric (`GET /api/me/usage`), for meters. */
export function useUsage() {
  const { request } = useCtx();
  const query = useQuery({
    queryKey: ["agent-kit", "usage"],
    queryFn: async () => (await request<{ metrics: UsageInfo[] }>("/api/me/usage")).metrics,
  });
  return {
    metrics: query.data ?? [],
    isLoading: query.isLoading,
    error: query.error,
    refetch: query.refetch,
  };
}

/**
 * Starts the marketplace sign-in, coming back to `returnTo` (default: the
 * current page). With a cross-origin API the target is absolute, so the
 * backend sends the browser back to this web app (it accepts only its
 * configured frontend origin).
 */
export function useSignIn() {
  const { apiBase } = useCtx();
  return useCallback(
    (returnTo?: string) => {
      const here = apiBase ? window.location.href : `${window.location.pathname}${window.location.search}`;
      const target = returnTo ? new URL(returnTo, window.location.href)[apiBase ? "href" : "pathname"] : here;
      window.location.assign(
        `${apiBase}/api/auth/sign-in/marketplace?returnTo=${encodeURIComponent(target)}`,
      );
    },
    [apiBase],
  );
}

/** Signs out of the agent; with `{ marketplace: true }` also ends the marketplace session. */
export function useSignOut() {
  const { request } = useCtx();
  const client = useQueryClient();
  return useCallback(
    async (opts: { marketplace?: boolean } = {}) => {
      const result = await request<{ endSessionUrl: string | null }>(
        `/api/auth/sign-out${opts.marketplace ? "?marketplace=true" : ""}`,
        {
          method: "POST",
        },
      );
      if (result.endSessionUrl) return window.location.assign(result.endSessionUrl);
      // Every cached answer belonged to the signed-out user: drop them and ask again (the session is now null).
      await client.resetQueries();
    },
    [request, client],
  );
}

/** Renders a 429 (quota) or 402 (subscribe) answer with a link to the marketplace pricing page. */
export function UpgradePrompt(props: { payload: UpgradePayload | null | undefined; returnTo?: string }) {
  if (!props.payload) return null;
  const href = props.returnTo
    ? `${props.payload.upgradeUrl}?returnUrl=${encodeURIComponent(props.returnTo)}`
    : props.payload.upgradeUrl;
  if (props.payload.error === "quota_exceeded") {
    const resets = props.payload.resetsAt ? new Date(props.payload.resetsAt).toLocaleDateString() : null;
    return (
      <div role="alert" className="upgrade-prompt">
        <p>You have used your whole allowance{resets ? `; it resets on ${resets}` : ""}.</p>
        <a href={href}>Upgrade your plan</a>
      </div>
    );
  }
  return (
    <div role="alert" className="upgrade-prompt">
      <p>Subscribe to use this agent.</p>
      <a href={href}>See plans</a>
    </div>
  );
}
