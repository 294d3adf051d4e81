import type { ChangePlanResult, SubscriptionDto } from "@amp/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "./client.ts";
import { keys } from "./queries.ts";

/**
 * The subscriber's plan actions, each one API call; every success refreshes
 * the subscriptions and usage shown anywhere in the app.
 */
export function usePlanActions(agentId: string) {
  const queryClient = useQueryClient();
  const id = encodeURIComponent(agentId);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.subscriptions }),
      queryClient.invalidateQueries({ queryKey: keys.usage(agentId) }),
    ]);
  const changePlan = useMutation({
    mutationFn: (input: { tierId: string; returnUrl: string }) =>
      api<ChangePlanResult>(`/me/subscriptions/${id}/plan`, { method: "POST", body: input }),
    onSuccess: (result) => {
      // Paid plans continue at Stripe Checkout (or the development checkout); the page leaves.
      if (result.status === "redirect") window.location.assign(result.url);
      // A free plan is active now: back to whoever sent the user here (an agent's upgrade link), if not here.
      else if (result.status === "active" && !isHere(result.returnUrl))
        window.location.assign(result.returnUrl);
      else return refresh();
    },
  });
  const cancel = useMutation({
    mutationFn: () => api<SubscriptionDto>(`/me/subscriptions/${id}/cancel`, { method: "POST" }),
    onSuccess: refresh,
  });
  const resume = useMutation({
    mutationFn: () => api<SubscriptionDto>(`/me/subscriptions/${id}/resume`, { method: "POST" }),
    onSuccess: refresh,
  });
  return { changePlan, cancel, resume };
}

const isHere = (url: string) => {
  const target = new URL(url, window.location.href);
  return target.origin === window.location.origin && target.pathname === window.location.pathname;
};
