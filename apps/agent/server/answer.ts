import MiniSearch from "minisearch";
import type { Citation } from "./schema.ts";

export interface Passage {
  documentId: string;
  title: string;
  text: string;
}

const MAX_PASSAGE = 600;

/** Splits documents into paragraph-sized passages (long paragraphs are cut at sentence ends). */
export function passagesOf(docs: { id: string; title: string; content: string }[]): Passage[] {
  const out: Passage[] = [];
  for (const doc of docs) {
    for (const paragraph of doc.content.split(/\n\s*\n/)) {
      const clean = paragraph.replace(/\s+/g, " ").trim();
      if (!clean) continue;
      let chunk = "";
      for (const sentence of clean.split(/(?<=[.!?])\s+/)) {
        if (chunk && chunk.length + sentence.length > MAX_PASSAGE) {
          out.push({ documentId: doc.id, title: doc.title, text: chunk });
          chunk = "";
        }
        chunk = chunk ? `${chunk} ${sentence}` : sentence;
      }
      if (chunk) out.push({ documentId: doc.id, title: doc.title, text: chunk });
    }
  }
  return out;
}

/** BM25-style ranking (MiniSearch) of the passages for a question; the best `k`. */
export function retrieve(passages: Passage[], question: string, k = 3): Passage[] {
  const index = new MiniSearch<Passage & { id: number }>({
    fields: ["text", "title"],
    storeFields: ["documentId", "title", "text"],
    searchOptions: { boost: { title: 1.5 }, fuzzy: 0.2, prefix: true, combineWith: "OR" },
  });
  index.addAll(passages.map((p, id) => ({ ...p, id })));
  return index
    .search(question)
    .slice(0, k)
    .map((hit) => passages[hit.id as number]!);
}

export function citationsOf(passages: Passage[]): Citation[] {
  return passages.map((p, i) => ({ n: i + 1, documentId: p.documentId, title: p.title, quote: p.text }));
}

/** A grounded, extractive answer: the best passages quoted, each with a numbered citation. */
export async function* extractiveAnswer(passages: Passage[]): AsyncGenerator<string> {
  if (passages.length === 0) {
    yield "I could not find anything about that in this knowledge base. Try other words, or add a document that covers it.";
    return;
  }
  yield passages.length === 1
    ? "One passage in your documents answers this:\n\n"
    : "Here is what your documents say:\n\n";
  for (const [i, p] of passages.entries()) {
    for (const word of `> ${p.text} [${i + 1}]\n\n`.split(/(?<= )/)) yield word;
  }
}

/** A generated answer from any OpenAI-compatible endpoint, grounded in the passages (streamed). */
export async function* llmAnswer(
  llm: { baseUrl: string; apiKey: string; model: string },
  question: string,
  passages: Passage[],
  signal: AbortSignal,
): AsyncGenerator<string> {
  const context = passages.map((p, i) => `[${i + 1}] (${p.title}) ${p.text}`).join("\n\n");
  const response = await fetch(`${llm.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${llm.apiKey}` },
    body: JSON.stringify({
      model: llm.model,
      stream: true,
      messages: [
        {
          role: "system",
          content:
            "Answer only from the numbered passages and cite them like [1]. If they do not answer the question, say so.",
        },
        { role: "user", content: `Passages:\n${context || "(none)"}\n\nQuestion: ${question}` },
      ],
    }),
    signal,
  });
  if (!response.ok || !response.body) throw new Error(`LLM endpoint answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const data = line.startsWith("data:") ? line.slice(5).trim() : "";
      if (!data || data === "[DONE]") continue;
      const delta = JSON.parse(data).choices?.[0]?.delta?.content;
      if (typeof delta === "string" && delta) yield delta;
    }
  }
}
