import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api.ts";

export interface Doc {
  id: string;
  title: string;
  bytes: number;
}

const size = (bytes: number) => (bytes < 1000 ? `${bytes} B` : `${Math.ceil(bytes / 1000)} kB`);

/** The documents of a knowledge base: list, view, rename, delete, and add (paste or upload). */
export function Documents(props: { kbId: string; documents: Doc[]; onView(documentId: string): void }) {
  const { kbId, documents } = props;
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ["kb", kbId] });
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      await refresh();
    }
  };

  return (
    <details className="documents" open={documents.length === 0}>
      <summary>Documents ({documents.length})</summary>
      {documents.length ? (
        <ul className="docs" aria-label="Documents">
          {documents.map((d) => (
            <DocumentRow key={d.id} kbId={kbId} doc={d} onView={() => props.onView(d.id)} run={run} />
          ))}
        </ul>
      ) : (
        <p className="muted">No documents yet. Add one below; answers are drawn only from these.</p>
      )}
      {error ? <p role="alert">{error}</p> : null}
      <AddDocument kbId={kbId} run={run} />
    </details>
  );
}

function DocumentRow(props: {
  kbId: string;
  doc: Doc;
  onView(): void;
  run(action: () => Promise<unknown>): Promise<boolean>;
}) {
  const { kbId, doc, run } = props;
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(doc.title);
  const path = `/api/kbs/${kbId}/documents/${doc.id}`;

  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (await run(() => api(path, { method: "PATCH", body: { title } }))) setRenaming(false);
  };
  const remove = () => {
    if (window.confirm(`Delete the document "${doc.title}"?`))
      void run(() => api(path, { method: "DELETE" }));
  };

  if (renaming) {
    return (
      <li className="doc">
        <form onSubmit={rename} className="rename">
          <label htmlFor={`rename-${doc.id}`} className="sr-only">
            New title for {doc.title}
          </label>
          <input
            id={`rename-${doc.id}`}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            required
            maxLength={200}
            // biome-ignore lint/a11y/noAutofocus: the user just asked to rename this document
            autoFocus
          />
          <button type="submit">Save</button>
          <button
            type="button"
            onClick={() => {
              setTitle(doc.title);
              setRenaming(false);
            }}
          >
            Cancel
          </button>
        </form>
      </li>
    );
  }
  return (
    <li className="doc">
      <button
        type="button"
        className="link doc-title"
        onClick={props.onView}
        aria-label={`View ${doc.title}`}
      >
        {doc.title}
      </button>
      <span className="muted small">{size(doc.bytes)}</span>
      <span className="spacer" />
      <button
        type="button"
        className="small"
        onClick={() => setRenaming(true)}
        aria-label={`Rename ${doc.title}`}
      >
        Rename
      </button>
      <button type="button" className="small danger" onClick={remove} aria-label={`Delete ${doc.title}`}>
        Delete
      </button>
    </li>
  );
}

function AddDocument(props: { kbId: string; run(action: () => Promise<unknown>): Promise<boolean> }) {
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await props.run(() =>
      api(`/api/kbs/${props.kbId}/documents`, { method: "POST", body: { title, content } }),
    );
    if (ok) {
      setTitle("");
      setContent("");
    }
  };
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setTitle(file.name);
    setContent(await file.text());
  };
  return (
    <form onSubmit={add} className="doc-form">
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
  );
}
