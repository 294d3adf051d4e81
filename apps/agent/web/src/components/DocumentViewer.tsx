import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { api } from "../api.ts";
import { paragraphsWithQuote } from "./passage.ts";

export interface OpenDocument {
  kbId: string;
  documentId: string;
  /** The cited passage to highlight and scroll to, if opened from a citation. */
  quote: string | null;
}

interface FullDocument {
  id: string;
  title: string;
  content: string;
  bytes: number;
}

/** A modal viewer for one document; opened from a citation, the cited passage is marked and scrolled to. */
export function DocumentViewer({ open, onClose }: { open: OpenDocument; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const mark = useRef<HTMLElement>(null);
  const doc = useQuery({
    queryKey: ["document", open.kbId, open.documentId],
    queryFn: () => api<{ document: FullDocument }>(`/api/kbs/${open.kbId}/documents/${open.documentId}`),
  });
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const paragraphs = doc.data ? paragraphsWithQuote(doc.data.document.content, open.quote) : [];
  useEffect(() => {
    if (doc.data) mark.current?.scrollIntoView({ block: "center" });
  }, [doc.data]);
  const title = doc.data?.document.title ?? "Document";
  return (
    <dialog ref={dialog} className="viewer" aria-labelledby="viewer-title" onClose={onClose}>
      <div className="row viewer-head">
        <h2 id="viewer-title">{title}</h2>
        <span className="spacer" />
        <button type="button" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
      <div className="viewer-body">
        {doc.isLoading ? <p aria-busy="true">Loading…</p> : null}
        {doc.error ? <p role="alert">{(doc.error as Error).message}</p> : null}
        {open.quote && doc.data && !paragraphs.some((p) => p.mark) ? (
          <p className="muted">The cited passage is no longer in this document; it may have been edited.</p>
        ) : null}
        {paragraphs.map((p, i) =>
          p.mark ? (
            <p key={i}>
              {p.text.slice(0, p.mark[0])}
              <mark ref={mark} data-testid="cited-passage">
                {p.text.slice(p.mark[0], p.mark[1])}
              </mark>
              {p.text.slice(p.mark[1])}
            </p>
          ) : (
            <p key={i}>{p.text}</p>
          ),
        )}
      </div>
    </dialog>
  );
}
