import type { UpgradePayload } from "@amp/agent-kit/react";

const base = (import.meta.env.VITE_API_BASE as string | undefined) ?? "";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === "string" ? body.message : `Request failed (${status})`);
  }
  /** The 402/429 payload, when this is one. */
  get upgrade(): UpgradePayload | null {
    return this.status === 402 || this.status === 429 ? (this.body as unknown as UpgradePayload) : null;
  }
}

/** JSON calls to the agent backend, with the session cookie. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? "GET",
    credentials: "include",
    headers: {
      accept: "application/json",
      "x-requested-with": "agent-web",
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new ApiError(response.status, body);
  return body as T;
}

export interface Citation {
  n: number;
  documentId: string;
  title: string;
  quote: string;
}

/**
 * Asks a question and reads the Server-Sent Events answer from a POST
 * (EventSource only does GET): `charge`, `citations`, `token`…, `done`.
 */
export async function ask(
  kbId: string,
  question: string,
  on: {
    token(t: string): void;
    citations(c: Citation[]): void;
    charge(c: { remaining: number | null }): void;
  },
) {
  const response = await fetch(`${base}/api/kbs/${kbId}/ask`, {
    method: "POST",
    credentials: "include",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-requested-with": "agent-web",
    },
    body: JSON.stringify({ question }),
  });
  if (!response.ok || !response.body) {
    throw new ApiError(response.status, (await response.json().catch(() => ({}))) as Record<string, unknown>);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const events = buffer.split("\n\n");
    buffer = events.pop() ?? "";
    for (const raw of events) {
      const event = /^event: (.*)$/m.exec(raw)?.[1];
      const data = /^data: (.*)$/m.exec(raw)?.[1];
      if (!event || data === undefined) continue;
      const parsed = JSON.parse(data);
      if (event === "token") on.token(parsed);
      else if (event === "citations") on.citations(parsed);
      else if (event === "charge") on.charge(parsed);
    }
  }
}
