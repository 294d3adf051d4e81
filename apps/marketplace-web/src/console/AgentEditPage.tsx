import {
  AGENT_STATUS_TRANSITIONS,
  type AgentDto,
  type AgentStatus,
  type MetricDefinitionDto,
  type PricingTierDto,
  type QuotaDto,
} from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api/client.ts";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { consoleKeys, orNull, useAction, useConsoleMetrics } from "./hooks.ts";
import { StatusBadge, statusLabel } from "./StatusBadge.tsx";

const enc = encodeURIComponent;

/** One agent: details (saved as a partial update), status, metrics, tiers and their quotas. */
export function AgentEditPage() {
  const agentId = useParams().agentId!;
  const agent = useQuery({
    queryKey: consoleKeys.agent(agentId),
    queryFn: () => api<AgentDto>(`/agents/${enc(agentId)}`),
  });
  return (
    <section>
      <p>
        <Link to="/console">← All agents</Link>
      </p>
      <QueryState isPending={agent.isPending} error={agent.error}>
        {agent.data && (
          <>
            <h2>
              {agent.data.name} <StatusBadge status={agent.data.status} />
            </h2>
            <StatusControls agent={agent.data} />
            <DetailsForm agent={agent.data} />
            <Metrics agentId={agentId} />
            <Tiers agentId={agentId} />
          </>
        )}
      </QueryState>
    </section>
  );
}

function StatusControls({ agent }: { agent: AgentDto }) {
  const change = useAction(
    (status: AgentStatus) => api<AgentDto>(`/agents/${enc(agent.id)}`, { method: "PATCH", body: { status } }),
    [consoleKeys.agent(agent.id), consoleKeys.agents],
  );
  const next = AGENT_STATUS_TRANSITIONS[agent.status].filter((s) => s !== agent.status);
  return (
    <section className="card" aria-label="Status">
      <strong>Status:</strong> {statusLabel(agent.status)}
      {agent.status === "inactive" && (
        <span className="muted"> — hidden from the catalog; its OAuth client is disabled.</span>
      )}
      <div className="actions">
        {next.map((status) => (
          <button
            key={status}
            type="button"
            className={status === "inactive" ? "btn btn-danger" : "btn btn-ghost"}
            disabled={change.isPending}
            onClick={() => change.mutate(status)}
          >
            {status === "inactive" ? "Deactivate" : `Make ${statusLabel(status).toLowerCase()}`}
          </button>
        ))}
      </div>
      <ErrorAlert error={change.error} />
    </section>
  );
}

const TEXT_FIELDS = [
  ["name", "Name", "text"],
  ["tagline", "Tagline", "text"],
  ["description", "Description", "textarea"],
  ["productDomain", "Product domain", "url"],
  ["iconUrl", "Icon URL", "url"],
  ["docsUrl", "Docs URL", "url"],
] as const;

/** Sends only the fields that differ from what was loaded (PATCH), so nothing else is touched. */
function DetailsForm({ agent }: { agent: AgentDto }) {
  const [saved, setSaved] = useState(false);
  const save = useAction(
    (body: Record<string, unknown>) => api<AgentDto>(`/agents/${enc(agent.id)}`, { method: "PATCH", body }),
    [consoleKeys.agent(agent.id), consoleKeys.agents],
  );
  return (
    <form
      key={agent.updatedAt}
      className="card"
      aria-label="Details"
      onSubmit={async (event) => {
        event.preventDefault();
        setSaved(false);
        const form = new FormData(event.currentTarget);
        const changed: Record<string, unknown> = {};
        for (const [name] of TEXT_FIELDS) {
          const value = name === "name" ? String(form.get(name) ?? "").trim() : orNull(form.get(name));
          if (value !== agent[name]) changed[name] = value;
        }
        for (const flag of ["featured", "isNew"] as const) {
          const value = form.get(flag) === "on";
          if (value !== agent[flag]) changed[flag] = value;
        }
        const redirectUris = String(form.get("redirectUris") ?? "")
          .split(/\s+/)
          .filter(Boolean);
        if (redirectUris.join("\n") !== agent.redirectUris.join("\n")) changed.redirectUris = redirectUris;
        if (Object.keys(changed).length === 0) return setSaved(true);
        await save.mutateAsync(changed);
        setSaved(true);
      }}
    >
      <h3>Details</h3>
      <div className="form-grid">
        {TEXT_FIELDS.map(([name, label, type]) => (
          <div key={name}>
            <label htmlFor={`agent-${name}`}>{label}</label>
            {type === "textarea" ? (
              <textarea id={`agent-${name}`} name={name} defaultValue={agent[name] ?? ""} />
            ) : (
              <input
                id={`agent-${name}`}
                name={name}
                type={type}
                defaultValue={agent[name] ?? ""}
                required={name === "name"}
              />
            )}
          </div>
        ))}
        <div>
          <label htmlFor="agent-redirects">OAuth redirect URIs</label>
          <textarea id="agent-redirects" name="redirectUris" defaultValue={agent.redirectUris.join("\n")} />
        </div>
        <div>
          <label className="check">
            <input type="checkbox" name="featured" defaultChecked={agent.featured} /> Featured
          </label>
          <label className="check">
            <input type="checkbox" name="isNew" defaultChecked={agent.isNew} /> New
          </label>
        </div>
      </div>
      <p className="field-hint">
        Slug <span className="mono">{agent.slug}</span> · OAuth client{" "}
        <span className="mono">{agent.oauthClientId}</span>
      </p>
      <ErrorAlert error={save.error} />
      {saved && !save.isPending && (
        <p className="alert alert-info" role="status">
          Saved.
        </p>
      )}
      <div className="actions">
        <button className="btn btn-primary" type="submit" disabled={save.isPending}>
          Save changes
        </button>
      </div>
    </form>
  );
}

function Metrics({ agentId }: { agentId: string }) {
  const metrics = useConsoleMetrics(agentId);
  const create = useAction(
    (body: Record<string, unknown>) =>
      api<MetricDefinitionDto>(`/agents/${enc(agentId)}/metrics`, { method: "POST", body }),
    [consoleKeys.metrics(agentId), consoleKeys.tiers(agentId)],
  );
  const relabel = useAction(
    ({ id, ...body }: { id: string; displayName: string; unit: string }) =>
      api<MetricDefinitionDto>(`/agents/${enc(agentId)}/metrics/${enc(id)}`, { method: "POST", body }),
    [consoleKeys.metrics(agentId)],
  );
  return (
    <section className="card" aria-label="Metrics">
      <h3>Metrics</h3>
      <p className="field-hint">Slug and kind are fixed once created; the label and unit can change.</p>
      <QueryState isPending={metrics.isPending} error={metrics.error}>
        <ul className="rows">
          {metrics.data?.map((metric) => (
            <li className="row" key={metric.id}>
              <form
                className="inline-form"
                aria-label={`Metric ${metric.slug}`}
                onSubmit={(event) => {
                  event.preventDefault();
                  const form = new FormData(event.currentTarget);
                  relabel.mutate({
                    id: metric.id,
                    displayName: String(form.get("displayName")),
                    unit: String(form.get("unit")),
                  });
                }}
              >
                <span className="mono">{metric.slug}</span>
                <span className="badge badge-muted">{metric.kind}</span>
                <input name="displayName" aria-label="Label" defaultValue={metric.displayName} required />
                <input name="unit" aria-label="Unit" defaultValue={metric.unit} required />
                <button className="btn btn-ghost" type="submit">
                  Save
                </button>
              </form>
            </li>
          ))}
          {metrics.data?.length === 0 && <li className="muted">No metrics yet.</li>}
        </ul>
      </QueryState>
      <ErrorAlert error={relabel.error} />
      <form
        className="inline-form"
        aria-label="Add a metric"
        onSubmit={async (event) => {
          event.preventDefault();
          const target = event.currentTarget;
          const form = new FormData(target);
          await create.mutateAsync({
            slug: String(form.get("slug")).trim(),
            displayName: String(form.get("displayName")).trim(),
            unit: String(form.get("unit")).trim(),
            kind: String(form.get("kind")),
          });
          target.reset();
        }}
      >
        <input name="slug" aria-label="Metric slug" placeholder="slug" required />
        <input name="displayName" aria-label="Metric label" placeholder="Label" required />
        <input name="unit" aria-label="Metric unit" placeholder="Unit" required />
        <select name="kind" aria-label="Metric kind" defaultValue="fixed">
          <option value="fixed">fixed (per period)</option>
          <option value="rolling">rolling</option>
        </select>
        <button className="btn btn-primary" type="submit" disabled={create.isPending}>
          Add metric
        </button>
      </form>
      <ErrorAlert error={create.error} />
    </section>
  );
}

interface TierView {
  tier: PricingTierDto;
  quotas: QuotaDto[];
}

function Tiers({ agentId }: { agentId: string }) {
  const tiers = useQuery({
    queryKey: consoleKeys.tiers(agentId),
    queryFn: async (): Promise<TierView[]> => {
      const list = await api<PricingTierDto[]>(`/agents/${enc(agentId)}/pricing`);
      return Promise.all(
        list.map(async (tier) => ({
          tier,
          quotas: await api<QuotaDto[]>(`/agents/${enc(agentId)}/pricing/${enc(tier.id)}/quotas`),
        })),
      );
    },
  });
  const metrics = useConsoleMetrics(agentId);
  const create = useAction(
    (body: Record<string, unknown>) =>
      api<PricingTierDto>(`/agents/${enc(agentId)}/pricing`, { method: "POST", body }),
    [consoleKeys.tiers(agentId)],
  );
  const editTier = useAction(
    ({
      tierId,
      ...body
    }: {
      tierId: string;
      tierName: string;
      featuresIncluded: string[];
      recommended: boolean;
    }) => api<PricingTierDto>(`/agents/${enc(agentId)}/pricing/${enc(tierId)}`, { method: "PATCH", body }),
    [consoleKeys.tiers(agentId)],
  );
  const archive = useAction(
    (tierId: string) => api(`/agents/${enc(agentId)}/pricing/${enc(tierId)}`, { method: "DELETE" }),
    [consoleKeys.tiers(agentId)],
  );
  const setQuota = useAction(
    ({ tierId, metricId, quotaLimit }: { tierId: string; metricId: string; quotaLimit: number | null }) =>
      api<QuotaDto>(`/agents/${enc(agentId)}/pricing/${enc(tierId)}/quotas/${enc(metricId)}`, {
        method: "PUT",
        body: { quotaLimit },
      }),
    [consoleKeys.tiers(agentId)],
  );
  return (
    <section className="card" aria-label="Tiers and quotas">
      <h3>Tiers &amp; quotas</h3>
      <p className="field-hint">
        Price terms are fixed once a tier exists (create a new tier and archive the old one). A quota: a
        number caps the metric per period, 0 denies it, empty means unlimited. A metric with no quota set is
        denied.
      </p>
      <QueryState isPending={tiers.isPending} error={tiers.error}>
        <ul className="rows">
          {tiers.data?.map(({ tier, quotas }) => (
            <li className="row" key={tier.id} aria-label={`Tier ${tier.tierName}`}>
              <div className="row-main">
                <strong>{tier.tierName}</strong>{" "}
                <span className="muted">
                  {tier.isFree ? "Free" : `${tier.price} ${tier.currency} / ${tier.billingInterval}`}
                </span>
                <form
                  className="inline-form"
                  aria-label={`Edit tier ${tier.tierName}`}
                  onSubmit={(event) => {
                    event.preventDefault();
                    const form = new FormData(event.currentTarget);
                    editTier.mutate({
                      tierId: tier.id,
                      tierName: String(form.get("tierName")).trim(),
                      featuresIncluded: String(form.get("features") ?? "")
                        .split(",")
                        .map((f) => f.trim())
                        .filter(Boolean),
                      recommended: form.get("recommended") === "on",
                    });
                  }}
                >
                  <input name="tierName" aria-label="Tier name" defaultValue={tier.tierName} required />
                  <input
                    name="features"
                    aria-label="Features"
                    defaultValue={tier.featuresIncluded.join(", ")}
                    placeholder="Features, comma separated"
                  />
                  <label className="check">
                    <input type="checkbox" name="recommended" defaultChecked={tier.recommended} /> Recommended
                  </label>
                  <button className="btn btn-ghost" type="submit" disabled={editTier.isPending}>
                    Save tier
                  </button>
                </form>
                <div className="quota-grid">
                  {metrics.data?.map((metric) => {
                    const quota = quotas.find((q) => q.metricId === metric.id);
                    return (
                      <form
                        key={metric.id}
                        className="inline-form"
                        aria-label={`Quota ${tier.tierName} ${metric.slug}`}
                        onSubmit={(event) => {
                          event.preventDefault();
                          const raw = String(new FormData(event.currentTarget).get("limit") ?? "").trim();
                          setQuota.mutate({
                            tierId: tier.id,
                            metricId: metric.id,
                            quotaLimit: raw === "" ? null : Number(raw),
                          });
                        }}
                      >
                        <label htmlFor={`q-${tier.id}-${metric.id}`} className="mono">
                          {metric.slug}
                        </label>
                        <input
                          id={`q-${tier.id}-${metric.id}`}
                          name="limit"
                          type="number"
                          min={0}
                          step={1}
                          placeholder="unlimited"
                          defaultValue={quota?.quotaLimit ?? ""}
                        />
                        <span className="muted">
                          {quota
                            ? quota.quotaLimit === null
                              ? "unlimited"
                              : `${quota.quotaLimit}`
                            : "not set"}
                        </span>
                        <button className="btn btn-ghost" type="submit">
                          Set
                        </button>
                      </form>
                    );
                  })}
                </div>
              </div>
              <div className="row-actions">
                <button
                  type="button"
                  className="btn btn-danger"
                  onClick={() => {
                    if (confirm(`Archive the ${tier.tierName} tier? Existing subscribers keep it.`))
                      archive.mutate(tier.id);
                  }}
                >
                  Archive
                </button>
              </div>
            </li>
          ))}
          {tiers.data?.length === 0 && <li className="muted">No tiers yet.</li>}
        </ul>
      </QueryState>
      <ErrorAlert error={setQuota.error ?? archive.error ?? editTier.error} />
      <form
        className="inline-form"
        aria-label="Add a tier"
        onSubmit={async (event) => {
          event.preventDefault();
          const target = event.currentTarget;
          const form = new FormData(target);
          const price = String(form.get("price") ?? "0").trim() || "0";
          const isFree = Number(price) === 0;
          await create.mutateAsync({
            tierName: String(form.get("tierName")).trim(),
            isFree,
            price: isFree ? "0.00" : price,
            billingInterval: String(form.get("billingInterval")),
            featuresIncluded: String(form.get("features") ?? "")
              .split(",")
              .map((f) => f.trim())
              .filter(Boolean),
          });
          target.reset();
        }}
      >
        <input name="tierName" aria-label="Tier name" placeholder="Tier name" required />
        <input name="price" aria-label="Price" placeholder="Price, 0 = free" inputMode="decimal" />
        <select name="billingInterval" aria-label="Billing interval" defaultValue="month">
          <option value="month">per month</option>
          <option value="year">per year</option>
          <option value="one_time">one time</option>
        </select>
        <input name="features" aria-label="Features" placeholder="Features, comma separated" />
        <button className="btn btn-primary" type="submit" disabled={create.isPending}>
          Add tier
        </button>
      </form>
      <ErrorAlert error={create.error} />
    </section>
  );
}
