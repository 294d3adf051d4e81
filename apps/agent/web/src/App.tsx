import {
  type UpgradePayload,
  UpgradePrompt,
  useMarketplaceEvents,
  useSession,
  useSignIn,
  useTier,
  useUsage,
} from "@amp/agent-kit/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api } from "./api.ts";
import { Chat, type Message, returnHere } from "./components/Chat.tsx";
import { type Doc, Documents } from "./components/Documents.tsx";
import { DocumentViewer, type OpenDocument } from "./components/DocumentViewer.tsx";
import { UserMenu, usePlanLinks } from "./components/UserMenu.tsx";

interface Kb {
  id: string;
  name: string;
}

export function App() {
  const { user, isLoading } = useSession();
  const signIn = useSignIn();
  if (isLoading)
    return (
      <p className="center" aria-busy="true">
        Loading…
      </p>
    );
  if (!user) {
    return (
      <main className="center card narrow">
        <h1>Knowledge Base Assistant</h1>
        <p>Ask questions about your own notes and documents, with answers that cite their sources.</p>
        <button type="button" className="primary" onClick={() => signIn()}>
          Sign in with the marketplace
        </button>
      </main>
    );
  }
  return <Shell name={user.name} email={user.email} />;
}

function Shell({ name, email }: { name: string; email: string }) {
  // Once, for the signed-in app: a pushed plan change refreshes tier and usage. While the stream is open
  // the checkout-return polling is off (the event brings the new tier); without it (no webhook secret
  // configured on the server) agent-kit's polling covers a late activation.
  const { connected } = useMarketplaceEvents();
  const { tier, subscriptionRequired, isFinalizing } = useTier({ checkoutPolling: !connected });
  useEffect(() => {
    if (!isFinalizing && new URLSearchParams(window.location.search).has("checkout"))
      window.history.replaceState({}, "", "/");
  }, [isFinalizing]);
  return (
    <>
      <header className="bar">
        <strong>KB Assistant</strong>
        <span className="spacer" />
        <span className="sr-only">Your plan:</span>
        <span className="badge" data-testid="tier-badge">
          {tier ? tier.tierName : isFinalizing ? "Finalizing…" : "No plan"}
        </span>
        {tier?.subscription?.cancelAtPeriodEnd ? (
          <span className="muted" data-testid="plan-ends">
            {tier.subscription.currentPeriodEnd
              ? `ends ${new Date(tier.subscription.currentPeriodEnd).toLocaleDateString()}`
              : "canceled"}
          </span>
        ) : null}
        <UserMenu name={name} email={email} />
      </header>
      <main className="layout">
        {subscriptionRequired ? (
          <section className="card">
            <h1>Choose a plan</h1>
            <UpgradePrompt payload={subscriptionRequired} returnTo={returnHere()} />
          </section>
        ) : (
          <>
            <Meters />
            <Workspace />
          </>
        )}
      </main>
    </>
  );
}

function Meters() {
  const { metrics } = useUsage();
  const links = usePlanLinks();
  return (
    <section className="card meters" aria-label="Usage">
      {metrics.map((m) => (
        <div key={m.metricSlug} className="meter">
          <label htmlFor={`meter-${m.metricSlug}`}>
            {m.displayName}
            {m.metricSlug === "voice"
              ? m.effectiveQuota
                ? " — included"
                : " — not included"
              : `: ${m.used} / ${m.effectiveQuota ?? "∞"}`}
          </label>
          {m.metricSlug === "voice" ? null : (
            <progress
              id={`meter-${m.metricSlug}`}
              data-testid={`meter-${m.metricSlug}`}
              max={m.effectiveQuota ?? 1}
              value={m.effectiveQuota === null ? 0 : m.used}
            />
          )}
        </div>
      ))}
      {links.data ? (
        <a className="meters-link" href={links.data.accountUrl}>
          Plan and usage on the marketplace
        </a>
      ) : null}
    </section>
  );
}

function Workspace() {
  const client = useQueryClient();
  const kbs = useQuery({ queryKey: ["kbs"], queryFn: () => api<{ knowledgeBases: Kb[] }>("/api/kbs") });
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [upgrade, setUpgrade] = useState<UpgradePayload | null>(null);
  const list = kbs.data?.knowledgeBases ?? [];
  const current = list.find((k) => k.id === selected) ?? list[0] ?? null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { knowledgeBase } = await api<{ knowledgeBase: Kb }>("/api/kbs", {
        method: "POST",
        body: { name },
      });
      setName("");
      setSelected(knowledgeBase.id);
      setUpgrade(null);
    } catch (err) {
      if (err instanceof ApiError && err.upgrade) setUpgrade(err.upgrade);
      else setError((err as Error).message);
    }
    await client.invalidateQueries();
  };

  return (
    <div className="workspace">
      <nav className="card" aria-label="Knowledge bases">
        <h2>Knowledge bases</h2>
        <ul className="kbs">
          {list.map((kb) => (
            <li key={kb.id}>
              <button type="button" aria-current={kb.id === current?.id} onClick={() => setSelected(kb.id)}>
                {kb.name}
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={create}>
          <label htmlFor="kb-name">New knowledge base</label>
          <input
            id="kb-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={80}
            placeholder="e.g. Team handbook"
          />
          <button type="submit">Create</button>
        </form>
        <UpgradePrompt payload={upgrade} returnTo={returnHere()} />
        {error ? <p role="alert">{error}</p> : null}
      </nav>
      {current ? (
        <KbView key={current.id} kb={current} />
      ) : (
        <section className="card">Create a knowledge base to begin.</section>
      )}
    </div>
  );
}

function KbView({ kb }: { kb: Kb }) {
  const client = useQueryClient();
  const detail = useQuery({
    queryKey: ["kb", kb.id],
    queryFn: () => api<{ documents: Doc[]; messages: Message[] }>(`/api/kbs/${kb.id}`),
  });
  const [viewing, setViewing] = useState<OpenDocument | null>(null);

  const remove = async () => {
    if (!window.confirm(`Delete "${kb.name}" and its documents?`)) return;
    await api(`/api/kbs/${kb.id}`, { method: "DELETE" });
    await client.invalidateQueries();
  };

  return (
    <section className="card kb" aria-label={kb.name}>
      <div className="row">
        <h2>{kb.name}</h2>
        <span className="spacer" />
        <button type="button" className="danger small nowrap" onClick={() => void remove()}>
          Delete knowledge base
        </button>
      </div>
      <Documents
        kbId={kb.id}
        documents={detail.data?.documents ?? []}
        onView={(documentId) => setViewing({ kbId: kb.id, documentId, quote: null })}
      />
      <Chat
        kbId={kb.id}
        history={detail.data?.messages ?? []}
        onCite={(c) => setViewing({ kbId: kb.id, documentId: c.documentId, quote: c.quote })}
      />
      {viewing ? (
        <DocumentViewer
          key={`${viewing.documentId}:${viewing.quote ?? ""}`}
          open={viewing}
          onClose={() => setViewing(null)}
        />
      ) : null}
    </section>
  );
}
