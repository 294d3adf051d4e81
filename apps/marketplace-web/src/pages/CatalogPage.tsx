import type { AgentDto, PricingTierDto } from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client.ts";
import { useAgents } from "../api/queries.ts";
import { fromPrice } from "../app/format.ts";
import { AgentIcon } from "../components/AgentIcon.tsx";
import { QueryState } from "../components/QueryState.tsx";

const FILTERS = [
  { id: "all", label: "All" },
  { id: "featured", label: "Featured" },
  { id: "new", label: "New" },
] as const;
type Filter = (typeof FILTERS)[number]["id"];

/** Home: every listed agent as a card, with search and featured/new filters (kept in the URL). */
export function CatalogPage() {
  const agents = useAgents();
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get("q") ?? "");
  const query = useDeferredValue(text.trim().toLowerCase());
  const filter = (FILTERS.find((f) => f.id === params.get("show"))?.id ?? "all") as Filter;

  const visible = (agents.data ?? []).filter(
    (agent) =>
      (filter !== "featured" || agent.featured) &&
      (filter !== "new" || agent.isNew) &&
      (!query ||
        [agent.name, agent.tagline ?? "", agent.description ?? ""].some((t) =>
          t.toLowerCase().includes(query),
        )),
  );
  const update = (next: { q?: string; show?: Filter }) => {
    const merged = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v && v !== "all") merged.set(k, v);
      else merged.delete(k);
    }
    setParams(merged, { replace: true });
  };

  return (
    <>
      <section className="hero">
        <h1>Find an agent</h1>
        <p className="muted">
          AI agents built by independent teams. Sign in once with your marketplace account.
        </p>
        <search className="toolbar">
          <label className="sr-only" htmlFor="catalog-search">
            Search agents
          </label>
          <input
            id="catalog-search"
            type="search"
            placeholder="Search agents"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              update({ q: e.target.value.trim() });
            }}
          />
          <fieldset className="chips">
            <legend className="sr-only">Show</legend>
            {FILTERS.map((f) => (
              <button
                key={f.id}
                type="button"
                className="chip"
                aria-pressed={filter === f.id}
                onClick={() => update({ show: f.id })}
              >
                {f.label}
              </button>
            ))}
          </fieldset>
        </search>
      </section>
      <QueryState isPending={agents.isPending} error={agents.error}>
        {visible.length === 0 ? (
          <p className="card muted">
            {agents.data?.length ? "No agent matches your search." : "No agents are listed yet."}
          </p>
        ) : (
          <ul className="grid" aria-label="Agents" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {visible.map((agent) => (
              <li key={agent.id} style={{ display: "flex" }}>
                <AgentCard agent={agent} />
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </>
  );
}

function AgentCard({ agent }: { agent: AgentDto }) {
  const tiers = useQuery({
    queryKey: ["tiers", agent.id],
    queryFn: () => api<PricingTierDto[]>(`/agents/${encodeURIComponent(agent.id)}/pricing`),
  });
  const from = tiers.data ? fromPrice(tiers.data) : null;
  return (
    <Link
      className="card agent-card"
      style={{ flex: 1 }}
      to={`/agent/${agent.slug}`}
      data-testid="agent-card"
    >
      <div className="agent-head">
        <AgentIcon agent={agent} />
        <div>
          <h3>{agent.name}</h3>
          <div className="chips">
            {agent.featured && <span className="badge">Featured</span>}
            {agent.isNew && <span className="badge badge-good">New</span>}
            {agent.status === "coming_soon" && <span className="badge badge-warn">Coming soon</span>}
          </div>
        </div>
      </div>
      {agent.tagline && <p className="muted">{agent.tagline}</p>}
      <span className="from">{from ?? (tiers.isPending ? "\u00a0" : "See plans")}</span>
    </Link>
  );
}
