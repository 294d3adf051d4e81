import type { StripeEventDto } from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { consoleKeys, useAction } from "./hooks.ts";

const LOOK = { processed: "badge badge-good", error: "badge badge-warn", received: "badge badge-muted" };

/** Stripe events as received, with a replay button (an already processed event is left alone). */
export function StripeEventsPage() {
  const [status, setStatus] = useState("");
  const events = useQuery({
    queryKey: consoleKeys.stripe(status),
    queryFn: () => api<StripeEventDto[]>(`/admin/stripe/events?limit=50${status ? `&status=${status}` : ""}`),
  });
  const replay = useAction(
    (id: string) =>
      api<{ replayed: boolean; event: StripeEventDto }>(
        `/admin/stripe/events/${encodeURIComponent(id)}/replay`,
        { method: "POST" },
      ),
    [["console", "stripe"]],
  );
  return (
    <section>
      <h2>Stripe events</h2>
      <div className="toolbar">
        <select aria-label="Event status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Every status</option>
          <option value="error">Failed</option>
          <option value="received">Received, not processed</option>
          <option value="processed">Processed</option>
        </select>
      </div>
      <ErrorAlert error={replay.error} />
      {replay.data && (
        <p className="alert alert-info" role="status">
          {replay.data.replayed
            ? `Replayed ${replay.data.event.id}: ${replay.data.event.status}.`
            : `${replay.data.event.id} was already processed; nothing ran.`}
        </p>
      )}
      <QueryState isPending={events.isPending} error={events.error}>
        <ul className="rows" aria-label="Stripe events">
          {events.data?.map((event) => (
            <li className="row" key={event.id}>
              <div className="row-main">
                <strong>{event.type}</strong> <span className={LOOK[event.status]}>{event.status}</span>
                <div className="muted mono">
                  {event.id} · {new Date(event.receivedAt).toLocaleString()} · attempts {event.attempts}
                </div>
                {event.error && <div className="alert alert-error">{event.error}</div>}
              </div>
              <div className="row-actions">
                <button
                  type="button"
                  className="btn btn-ghost"
                  disabled={replay.isPending || event.status === "processed"}
                  onClick={() => replay.mutate(event.id)}
                >
                  Replay
                </button>
              </div>
            </li>
          ))}
          {events.data?.length === 0 && <li className="muted">No events.</li>}
        </ul>
      </QueryState>
    </section>
  );
}
