import {
  type UpgradePayload,
  UpgradePrompt,
  useSession,
  useSignIn,
  useSignOut,
  useTier,
  useUsage,
} from "@amp/agent-kit/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api, ask, type Citation } from "./api.ts";

interface Kb {
  id: string;
  name: string;
}
interface Doc {
  id: string;
  title: string;
  bytes: number;
}
interface Message {
  id: number | string;
  role: "user" | "assistant";
  content: string;
  citations: Citation[];
}

/** Where the marketplace should send the browser back to after a subscription change. */
const returnHere = () => `${window.location.origin}/?checkout=done`;

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
  return <Shell name={user.name} />;
}

function Shell({ name }: { name: string }) {
  const { tier, subscriptionRequired, isFinalizing } = useTier();
  const signOut = useSignOut();
  const [upgrade, setUpgrade] = useState<UpgradePayload | null>(null);
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
        <span className="who">{name}</span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
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
            <UpgradePrompt payload={upgrade} returnTo={returnHere()} />
            <Workspace onUpgrade={setUpgrade} />
          </>
        )}
      </main>
    </>
  );
}

function Meters() {
  const { metrics } = useUsage();
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
    </section>
  );
}

function Workspace({ onUpgrade }: { onUpgrade(p: UpgradePayload | null): void }) {
  const client = useQueryClient();
  const kbs = useQuery({ queryKey: ["kbs"], queryFn: () => api<{ knowledgeBases: Kb[] }>("/api/kbs") });
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
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
      onUpgrade(null);
    } catch (err) {
      if (err instanceof ApiError && err.upgrade) onUpgrade(err.upgrade);
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
        {error ? <p role="alert">{error}</p> : null}
      </nav>
      {current ? (
        <KbView key={current.id} kb={current} onUpgrade={onUpgrade} />
      ) : (
        <section className="card">Create a knowledge base to begin.</section>
      )}
    </div>
  );
}

function KbView({ kb, onUpgrade }: { kb: Kb; onUpgrade(p: UpgradePayload | null): void }) {
  const client = useQueryClient();
  const detail = useQuery({
    queryKey: ["kb", kb.id],
    queryFn: () => api<{ documents: Doc[]; messages: Message[] }>(`/api/kbs/${kb.id}`),
  });
  const features = useQuery({
    queryKey: ["features"],
    queryFn: () => api<{ voice: boolean }>("/api/features"),
  });
  const { tier } = useTier();
  useEffect(() => {
    void features.refetch();
  }, [tier?.tierName]);
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const [question, setQuestion] = useState("");
  const [streaming, setStreaming] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const messages = [...(detail.data?.messages ?? []), ...(streaming ? [streaming] : [])];

  const addDocument = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api(`/api/kbs/${kb.id}/documents`, { method: "POST", body: { title, content } });
      setTitle("");
      setContent("");
      await client.invalidateQueries({ queryKey: ["kb", kb.id] });
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const upload = async (file: File | undefined) => {
    if (!file) return;
    setTitle(file.name);
    setContent(await file.text());
  };

  const submitQuestion = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const asked = question;
    setQuestion("");
    const answer: Message = { id: "streaming", role: "assistant", content: "", citations: [] };
    setStreaming({ ...answer });
    try {
      await ask(kb.id, asked, {
        token: (t) => {
          answer.content += t;
          setStreaming({ ...answer });
        },
        citations: (c) => {
          answer.citations = c;
        },
        charge: () => void client.invalidateQueries({ queryKey: ["agent-kit", "usage"] }),
      });
      onUpgrade(null);
    } catch (err) {
      if (err instanceof ApiError && err.upgrade) onUpgrade(err.upgrade);
      else setError((err as Error).message);
    } finally {
      setStreaming(null);
      await client.invalidateQueries({ queryKey: ["kb", kb.id] });
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete "${kb.name}" and its documents?`)) return;
    await api(`/api/kbs/${kb.id}`, { method: "DELETE" });
    await client.invalidateQueries();
  };

  const speak = (text: string) =>
    window.speechSynthesis?.speak(new SpeechSynthesisUtterance(text.replace(/\[\d+\]|>/g, "")));

  return (
    <section className="card kb" aria-label={kb.name}>
      <div className="row">
        <h2>{kb.name}</h2>
        <span className="spacer" />
        <button type="button" className="danger" onClick={() => void remove()}>
          Delete
        </button>
      </div>
      <details open={(detail.data?.documents.length ?? 0) === 0}>
        <summary>Documents ({detail.data?.documents.length ?? 0})</summary>
        <ul className="docs">
          {detail.data?.documents.map((d) => (
            <li key={d.id}>
              {d.title} <span className="muted">({Math.ceil(d.bytes / 1000)} kB)</span>
            </li>
          ))}
        </ul>
        <form onSubmit={addDocument} className="doc-form">
          <label htmlFor="doc-title">Title</label>
          <input
            id="doc-title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            required
            maxLength={200}
          />
          <label htmlFor="doc-content">Paste text or Markdown</label>
          <textarea
            id="doc-content"
            value={content}
            onChange={(e) => setContent(e.target.value)}
            required
            rows={5}
          />
          <label htmlFor="doc-file">…or upload a .txt / .md file</label>
          <input
            id="doc-file"
            type="file"
            accept=".txt,.md,text/plain,text/markdown"
            onChange={(e) => void upload(e.target.files?.[0])}
          />
          <button type="submit">Add document</button>
        </form>
      </details>
      <ol className="chat" aria-live="polite">
        {messages.map((m) => (
          <li key={m.id} className={m.role}>
            <p className="content">{m.content}</p>
            {m.citations.length ? (
              <ul className="citations">
                {m.citations.map((c) => (
                  <li key={c.n}>
                    [{c.n}] {c.title}
                  </li>
                ))}
              </ul>
            ) : null}
            {m.role === "assistant" && m.id !== "streaming" ? (
              features.data?.voice ? (
                <button type="button" className="link" onClick={() => speak(m.content)}>
                  🔊 Read aloud
                </button>
              ) : (
                <span className="locked" data-testid="voice-locked">
                  🔒 Voice replies are on paid plans.
                </span>
              )
            ) : null}
          </li>
        ))}
      </ol>
      <form onSubmit={submitQuestion} className="ask">
        <label htmlFor="question" className="sr-only">
          Your question
        </label>
        <input
          id="question"
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
          placeholder="Ask about your documents…"
          required
        />
        <button type="submit" className="primary" disabled={Boolean(streaming)}>
          Ask
        </button>
      </form>
      {features.data?.voice ? (
        <p className="muted" data-testid="voice-on">
          Voice replies are on.
        </p>
      ) : null}
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}
