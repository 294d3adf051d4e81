import { type UpgradePayload, UpgradePrompt, useTier } from "@amp/agent-kit/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api, ask, type Citation } from "../api.ts";
import { Markdown } from "./Markdown.tsx";

export interface Message {
  id: number | string;
  role: "user" | "assistant";
  content: string;
  citations: Citation[];
}

/** Where the marketplace should send the browser back to after a subscription change. */
export const returnHere = () => `${window.location.origin}/?checkout=done`;

/**
 * The conversation and its composer. The composer owns everything about a question in flight: Ask is
 * disabled while one runs, and a refused question (402/429) stays in the box with the upgrade prompt
 * right beside it, so nothing typed is lost and the prompt is where the user is looking.
 */
export function Chat(props: { kbId: string; history: Message[]; onCite(c: Citation): void }) {
  const { kbId } = props;
  const client = useQueryClient();
  const features = useQuery({
    queryKey: ["features"],
    queryFn: () => api<{ voice: boolean }>("/api/features"),
  });
  const { tier } = useTier();
  useEffect(() => {
    void features.refetch();
  }, [tier?.tierName]);
  const [question, setQuestion] = useState("");
  const [pending, setPending] = useState<{ question: string; answer: Message } | null>(null);
  const [upgrade, setUpgrade] = useState<UpgradePayload | null>(null);
  const [error, setError] = useState<string | null>(null);
  const log = useRef<HTMLOListElement>(null);
  const prompt = useRef<HTMLDivElement>(null);

  const messages: Message[] = [
    ...props.history,
    ...(pending
      ? [{ id: "pending", role: "user" as const, content: pending.question, citations: [] }, pending.answer]
      : []),
  ];
  const last = messages.at(-1);
  // Keep the newest message in view inside the conversation's own scroll area.
  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [messages.length, last?.content]);
  useEffect(() => {
    if (upgrade) prompt.current?.scrollIntoView({ block: "nearest" });
  }, [upgrade]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const asked = question.trim();
    if (pending || !asked) return;
    setError(null);
    setQuestion("");
    const answer: Message = { id: "streaming", role: "assistant", content: "", citations: [] };
    setPending({ question: asked, answer: { ...answer } });
    try {
      await ask(kbId, asked, {
        token: (t) => {
          answer.content += t;
          setPending({ question: asked, answer: { ...answer } });
        },
        citations: (c) => {
          answer.citations = c;
        },
        charge: () => void client.invalidateQueries({ queryKey: ["agent-kit", "usage"] }),
      });
      setUpgrade(null);
    } catch (err) {
      // Nothing was asked: give the question back unless the user has started typing another.
      setQuestion((now) => now || asked);
      if (err instanceof ApiError && err.upgrade) setUpgrade(err.upgrade);
      else setError((err as Error).message);
    } finally {
      await client.invalidateQueries({ queryKey: ["kb", kbId] });
      setPending(null);
    }
  };

  const speak = (text: string) =>
    window.speechSynthesis?.speak(new SpeechSynthesisUtterance(text.replace(/\[\d+\]|>/g, "")));

  return (
    <div className="conversation">
      <ol className="chat" aria-label="Conversation" aria-live="polite" ref={log}>
        {messages.length === 0 ? (
          <li className="muted empty">Ask a question about this knowledge base.</li>
        ) : null}
        {messages.map((m) => (
          <li key={m.id} className={m.role}>
            {m.role === "assistant" ? (
              <div className="content" aria-busy={m.id === "streaming"}>
                {m.content ? <Markdown text={m.content} /> : <span className="muted">Thinking…</span>}
              </div>
            ) : (
              <p className="content">{m.content}</p>
            )}
            {m.citations.length ? (
              <ul className="citations" aria-label="Sources">
                {m.citations.map((c) => (
                  <li key={c.n}>
                    <button type="button" className="link" onClick={() => props.onCite(c)}>
                      [{c.n}] {c.title}
                    </button>
                  </li>
                ))}
              </ul>
            ) : null}
            {m.role === "assistant" && typeof m.id === "number" ? (
              features.data?.voice ? (
                <button type="button" className="link" onClick={() => speak(m.content)}>
                  Read aloud
                </button>
              ) : (
                <span className="locked" data-testid="voice-locked">
                  Voice replies are on paid plans.
                </span>
              )
            ) : null}
          </li>
        ))}
      </ol>
      <div className="composer" ref={prompt}>
        <UpgradePrompt payload={upgrade} returnTo={returnHere()} />
        {error ? <p role="alert">{error}</p> : null}
        <form onSubmit={submit} className="ask">
          <label htmlFor="question" className="sr-only">
            Your question
          </label>
          <input
            id="question"
            value={question}
            onChange={(e) => setQuestion(e.target.value)}
            placeholder="Ask about your documents…"
            maxLength={2000}
            required
          />
          <button type="submit" className="primary" disabled={Boolean(pending)} aria-busy={Boolean(pending)}>
            {pending ? "Asking…" : "Ask"}
          </button>
        </form>
        {features.data?.voice ? (
          <p className="muted small" data-testid="voice-on">
            Voice replies are on.
          </p>
        ) : null}
      </div>
    </div>
  );
}
