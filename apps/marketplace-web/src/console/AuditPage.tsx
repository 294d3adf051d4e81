import type { AuditEntryDto } from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { QueryState } from "../components/QueryState.tsx";
import { consoleKeys } from "./hooks.ts";

/** The audit log (who changed what), newest first; filter by action (`agent.*` matches a prefix). */
export function AuditPage() {
  const [action, setAction] = useState("");
  const entries = useQuery({
    queryKey: consoleKeys.audit(action),
    queryFn: () =>
      api<AuditEntryDto[]>(`/admin/audit?limit=50${action ? `&action=${encodeURIComponent(action)}` : ""}`),
  });
  return (
    <section>
      <h2>Audit log</h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setAction(String(new FormData(event.currentTarget).get("action") ?? "").trim());
        }}
      >
        <input name="action" aria-label="Action" placeholder="Action, e.g. agent.* or user.ban" />
        <button className="btn btn-primary" type="submit">
          Filter
        </button>
      </form>
      <QueryState isPending={entries.isPending} error={entries.error}>
        <ul className="rows" aria-label="Audit entries">
          {entries.data?.map((entry) => (
            <li className="row" key={entry.id}>
              <div className="row-main">
                <strong className="mono">{entry.action}</strong>{" "}
                <span className="muted">
                  {entry.targetType} <span className="mono">{entry.targetId ?? "—"}</span>
                </span>
                <div className="muted">
                  {new Date(entry.at).toLocaleString()} · {entry.actorKind}
                  {entry.actorId ? ` ${entry.actorId}` : ""}
                </div>
              </div>
            </li>
          ))}
          {entries.data?.length === 0 && <li className="muted">No entries.</li>}
        </ul>
      </QueryState>
    </section>
  );
}
