import type { AgentDto, MetricUsageDto, SubscriptionDto } from "@amp/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { Link } from "react-router";
import { api, authCall, signInUrl } from "../api/client.ts";
import { usePlanActions } from "../api/plans.ts";
import { keys, type Me, useAgents, useMe, usePricing, useSubscriptions, useUsage } from "../api/queries.ts";
import { amount, formatDate, formatNumber, formatPrice } from "../app/format.ts";
import { AgentIcon } from "../components/AgentIcon.tsx";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";

const LIVE = new Set(["active", "trialing", "past_due"]);

/** The subscriber's account: subscriptions with usage and renewal, plan changes, profile, password. */
export function AccountPage() {
  const { me, isPending, error } = useMe();
  if (isPending || error) return <QueryState isPending={isPending} error={error} />;
  if (!me)
    return (
      <section className="card stack">
        <h1>Your account</h1>
        <p>Sign in to see your subscriptions, usage and profile.</p>
        <a className="btn btn-primary" href={signInUrl("/account")}>
          Sign in
        </a>
      </section>
    );
  return (
    <div className="stack">
      <h1>Your account</h1>
      <Subscriptions />
      <Profile me={me} />
      <Password />
    </div>
  );
}

function Subscriptions() {
  const subscriptions = useSubscriptions();
  const agents = useAgents();
  const live = (subscriptions.data ?? []).filter((s) => LIVE.has(s.status));
  return (
    <section aria-labelledby="subs-title" className="stack">
      <h2 id="subs-title">Subscriptions</h2>
      <QueryState isPending={subscriptions.isPending} error={subscriptions.error}>
        {live.length === 0 ? (
          <p className="card">
            You have no subscriptions yet. <Link to="/">Browse the catalog</Link> to find an agent.
          </p>
        ) : (
          live.map((s) => (
            <SubscriptionCard
              key={s.id}
              subscription={s}
              agent={agents.data?.find((a) => a.id === s.agentId)}
            />
          ))
        )}
      </QueryState>
    </section>
  );
}

function SubscriptionCard({ subscription: s, agent }: { subscription: SubscriptionDto; agent?: AgentDto }) {
  const usage = useUsage(s.agentId, s.status !== "past_due");
  const pricing = usePricing(s.agentId);
  const { changePlan, cancel, resume } = usePlanActions(s.agentId);
  const dialog = useRef<HTMLDialogElement>(null);
  const name = agent?.name ?? "Agent";
  const scheduled = pricing.data?.tiers.find((t) => t.tier.id === s.scheduledTierId)?.tier;
  const periodEnd = s.currentPeriodEnd ? formatDate(s.currentPeriodEnd) : null;
  const others = (pricing.data?.tiers ?? []).filter((t) => t.tier.id !== s.tierId);
  const busy = changePlan.isPending || cancel.isPending || resume.isPending;
  // A free plan has nothing paid to run out: the marketplace ends it at once (docs/billing.md).
  const endsNow = s.tier.isFree && !s.stripeSubscriptionId;

  return (
    <article className="card" aria-label={`${name} subscription`} data-testid="subscription">
      <div className="sub-head">
        <div className="agent-head">
          {agent && <AgentIcon agent={agent} />}
          <div>
            <h3>{agent ? <Link to={`/agent/${agent.slug}`}>{name}</Link> : name}</h3>
            <p>
              <strong data-testid="plan-name">{s.tier.tierName}</strong>
              {s.tier.isFree ? " " : ` · ${formatPrice(s.tier)} `}
              <StatusBadge subscription={s} />
            </p>
          </div>
        </div>
        {agent?.productDomain && (
          <a className="btn btn-ghost" href={agent.productDomain}>
            Open agent
          </a>
        )}
      </div>
      <p data-testid="renewal">{renewalText(s, scheduled?.tierName, periodEnd)}</p>
      <QueryState isPending={usage.isPending && s.status !== "past_due"} error={usage.error}>
        {usage.data?.map((metric) => (
          <UsageMeter key={metric.metricSlug} metric={metric} />
        ))}
      </QueryState>
      <ErrorAlert error={changePlan.error ?? cancel.error ?? resume.error} />
      <div className="actions">
        {s.cancelAtPeriodEnd || s.scheduledTierId ? (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => resume.mutate()}>
            {s.scheduledTierId ? `Keep ${s.tier.tierName}` : "Resume subscription"}
          </button>
        ) : (
          <>
            {others.map(({ tier }) => (
              <button
                key={tier.id}
                type="button"
                className={tier.isFree ? "btn btn-ghost" : "btn btn-primary"}
                disabled={busy}
                onClick={() =>
                  changePlan.mutate({ tierId: tier.id, returnUrl: `${window.location.origin}/account` })
                }
              >
                {Number(tier.price) > Number(s.tier.price) ? "Upgrade" : "Switch"} to {tier.tierName}
              </button>
            ))}
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy}
              onClick={() => dialog.current?.showModal()}
            >
              Cancel subscription
            </button>
          </>
        )}
      </div>
      <dialog ref={dialog} aria-labelledby={`cancel-${s.id}`}>
        <h3 id={`cancel-${s.id}`}>Cancel {s.tier.tierName}?</h3>
        <p>
          {endsNow
            ? `Your ${s.tier.tierName} plan ends now and you lose access to ${name}. You can subscribe again any time.`
            : `You keep ${s.tier.tierName} until ${periodEnd ?? "the end of the period"}. After that you no longer have access to ${name}. You can resume any time before then.`}
        </p>
        <div className="actions">
          <button
            type="button"
            className="btn btn-danger"
            onClick={() => {
              dialog.current?.close();
              cancel.mutate();
            }}
          >
            {endsNow ? "Cancel now" : "Cancel at period end"}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => dialog.current?.close()}>
            Keep my plan
          </button>
        </div>
      </dialog>
    </article>
  );
}

function renewalText(s: SubscriptionDto, scheduledName: string | undefined, periodEnd: string | null) {
  if (s.scheduledTierId)
    return `Changes to ${scheduledName ?? "another plan"} on ${periodEnd ?? "the period end"}.`;
  if (s.cancelAtPeriodEnd) return `Ends on ${periodEnd ?? "the period end"}.`;
  if (s.status === "past_due") return "Payment failed: update your payment method to keep access.";
  if (s.status === "trialing") return `Trial until ${periodEnd ?? "soon"}.`;
  if (s.tier.isFree) return periodEnd ? `Free plan. Usage resets on ${periodEnd}.` : "Free plan.";
  return periodEnd ? `Renews on ${periodEnd}.` : "Active.";
}

function StatusBadge({ subscription: s }: { subscription: SubscriptionDto }) {
  if (s.status === "past_due") return <span className="badge badge-warn">Payment due</span>;
  if (s.status === "trialing") return <span className="badge">Trial</span>;
  if (s.scheduledTierId) return <span className="badge badge-warn">Plan change scheduled</span>;
  if (s.cancelAtPeriodEnd) return <span className="badge badge-warn">Ending</span>;
  return <span className="badge badge-good">Active</span>;
}

function UsageMeter({ metric }: { metric: MetricUsageDto }) {
  const unit = metric.unit.toLowerCase();
  if (/^features?$/.test(unit))
    return (
      <p className="meter">
        {metric.displayName}:{" "}
        {metric.effectiveQuota === null || metric.effectiveQuota > 0 ? "included" : "not included"}
      </p>
    );
  const cap = metric.effectiveQuota;
  const percent = cap ? Math.min(100, Math.round((metric.used / cap) * 100)) : 0;
  return (
    <div className="meter">
      <div className="meter-label">
        <span>{metric.displayName}</span>
        <span>
          {cap === null
            ? `${amount(metric.used, unit)} used (unlimited)`
            : `${formatNumber(metric.used)} of ${amount(cap, unit)} used`}
          {metric.resetsAt ? ` · resets ${formatDate(metric.resetsAt)}` : ""}
        </span>
      </div>
      {cap !== null && (
        <div
          className="bar"
          role="progressbar"
          aria-label={metric.displayName}
          aria-valuemin={0}
          aria-valuemax={cap}
          aria-valuenow={metric.used}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
      )}
    </div>
  );
}

function Profile({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(me.name);
  const save = useMutation({
    mutationFn: () => api<Me>("/me", { method: "POST", body: { name } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.me }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <section className="card" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form onSubmit={submit}>
        <label htmlFor="profile-email">Email</label>
        <input id="profile-email" value={me.email} readOnly disabled />
        <label htmlFor="profile-name">Name</label>
        <input
          id="profile-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          maxLength={100}
        />
        <ErrorAlert error={save.error} />
        {save.isSuccess && (
          <p className="alert alert-info" role="status">
            Saved.
          </p>
        )}
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={save.isPending || name.trim() === ""}>
            Save
          </button>
        </div>
      </form>
    </section>
  );
}

function Password() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation({
    // better-auth's own endpoint; other sessions are revoked so a leaked password stops working everywhere.
    mutationFn: () =>
      authCall("/change-password", {
        currentPassword: current,
        newPassword: next,
        revokeOtherSessions: true,
      }),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate();
        }}
      >
        <label htmlFor="pw-current">Current password</label>
        <input
          id="pw-current"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          required
        />
        <label htmlFor="pw-new">New password</label>
        <input
          id="pw-new"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={128}
          value={next}
          onChange={(e) => setNext(e.target.value)}
          required
        />
        <p className="field-hint">At least 8 characters. Other devices are signed out.</p>
        <ErrorAlert error={change.error} />
        {change.isSuccess && (
          <p className="alert alert-info" role="status">
            Password changed.
          </p>
        )}
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={change.isPending}>
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}
