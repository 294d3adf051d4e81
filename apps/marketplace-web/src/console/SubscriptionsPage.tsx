import type { AdminSubscriptionDetailDto, AdminSubscriptionDto } from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { consoleKeys, useAction, useConsoleAgents } from "./hooks.ts";

const enc = encodeURIComponent;

/** Subscriptions across users, by subscriber email and agent; a subscription's usage and addons. */
export function SubscriptionsPage() {
  const [search, setSearch] = useState({ email: "", agentId: "" });
  const [open, setOpen] = useState<string | null>(null);
  const agents = useConsoleAgents();
  const query = new URLSearchParams({ limit: "50" });
  if (search.email) query.set("email", search.email);
  if (search.agentId) query.set("agentId", search.agentId);
  const subs = useQuery({
    queryKey: consoleKeys.subscriptions(query.toString()),
    queryFn: () => api<AdminSubscriptionDto[]>(`/admin/subscriptions?${query}`),
  });
  return (
    <section>
      <h2>Subscriptions &amp; usage</h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          setSearch({
            email: String(form.get("email") ?? "").trim(),
            agentId: String(form.get("agentId") ?? ""),
          });
          setOpen(null);
        }}
      >
        <input name="email" aria-label="Subscriber email" placeholder="Subscriber email" />
        <select name="agentId" aria-label="Agent" defaultValue="">
          <option value="">Every agent</option>
          {agents.data?.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name}
            </option>
          ))}
        </select>
        <button className="btn btn-primary" type="submit">
          Search
        </button>
      </form>
      <QueryState isPending={subs.isPending} error={subs.error}>
        <ul className="rows" aria-label="Subscriptions">
          {subs.data?.map((sub) => (
            <li className="row" key={sub.id}>
              <div className="row-main">
                <strong>{sub.user.email}</strong> → {sub.agent.name} · {sub.tier.tierName}{" "}
                <span className={sub.status === "active" ? "badge badge-good" : "badge badge-muted"}>
                  {sub.status}
                </span>
              </div>
              <div className="row-actions">
                <button
                  type="button"
                  className="btn btn-ghost"
                  aria-expanded={open === sub.id}
                  onClick={() => setOpen(open === sub.id ? null : sub.id)}
                >
                  {open === sub.id ? "Close" : "Usage & addons"}
                </button>
              </div>
              {open === sub.id && (
                <div className="row-detail">
                  <SubscriptionDetail id={sub.id} />
                </div>
              )}
            </li>
          ))}
          {subs.data?.length === 0 && <li className="muted">No subscriptions match.</li>}
        </ul>
      </QueryState>
    </section>
  );
}

function SubscriptionDetail({ id }: { id: string }) {
  const detail = useQuery({
    queryKey: consoleKeys.subscription(id),
    queryFn: () => api<AdminSubscriptionDetailDto>(`/admin/subscriptions/${enc(id)}`),
  });
  const grant = useAction(
    (body: { metricSlug: string; amount: number; scope: string }) =>
      api(`/admin/subscriptions/${enc(id)}/addons`, { method: "POST", body }),
    [consoleKeys.subscription(id)],
  );
  const revoke = useAction(
    (addonId: string) => api(`/admin/addons/${enc(addonId)}`, { method: "DELETE" }),
    [consoleKeys.subscription(id)],
  );
  return (
    <QueryState isPending={detail.isPending} error={detail.error}>
      {detail.data && (
        <section className="stack" aria-label="Subscription detail">
          <h3>Usage</h3>
          {detail.data.usage === null ? (
            <p className="muted">Not live: no usage is counted.</p>
          ) : (
            <ul className="rows">
              {detail.data.usage.map((u) => (
                <li key={u.metricSlug} className="row">
                  <span>
                    {u.displayName}: {u.used} of {u.effectiveQuota ?? "unlimited"} {u.unit}
                    {u.addonsBonus > 0 && <span className="muted"> (incl. +{u.addonsBonus} addon)</span>}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <h3>Addons</h3>
          <ul className="rows">
            {detail.data.addons.map((addon) => (
              <li key={addon.id} className="row">
                <span>
                  +{addon.amount} {addon.metricSlug} ·{" "}
                  {addon.scope === "permanent" ? "permanent" : "this period"}
                  {addon.revokedAt && <span className="badge badge-muted">revoked</span>}
                </span>
                {!addon.revokedAt && (
                  <button type="button" className="btn btn-danger" onClick={() => revoke.mutate(addon.id)}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
            {detail.data.addons.length === 0 && <li className="muted">No addons.</li>}
          </ul>
          {detail.data.usage && detail.data.usage.length > 0 && (
            <form
              className="inline-form"
              aria-label="Grant an addon"
              onSubmit={async (event) => {
                event.preventDefault();
                const target = event.currentTarget;
                const form = new FormData(target);
                await grant.mutateAsync({
                  metricSlug: String(form.get("metricSlug")),
                  amount: Number(form.get("amount")),
                  scope: String(form.get("scope")),
                });
                target.reset();
              }}
            >
              <select name="metricSlug" aria-label="Addon metric">
                {detail.data.usage.map((u) => (
                  <option key={u.metricSlug} value={u.metricSlug}>
                    {u.displayName}
                  </option>
                ))}
              </select>
              <input
                name="amount"
                aria-label="Addon amount"
                type="number"
                min={1}
                required
                placeholder="Amount"
              />
              <select name="scope" aria-label="Addon scope" defaultValue="one_cycle">
                <option value="one_cycle">this period</option>
                <option value="permanent">permanent</option>
              </select>
              <button className="btn btn-primary" type="submit" disabled={grant.isPending}>
                Grant addon
              </button>
            </form>
          )}
          <ErrorAlert error={grant.error ?? revoke.error} />
        </section>
      )}
    </QueryState>
  );
}
