import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { BrowserEvent } from "./events.ts";

/**
 * Listens to the signed-in user's marketplace events (Server-Sent Events from
 * the agent backend's `GET /api/me/events`, fed by `kit.webhooks`) and
 * refreshes the tier and usage at once: an upgrade, a cancellation or a
 * granted addon shows without polling. `onEvent` sees each event too.
 * EventSource reconnects by itself after a network error. Returns `connected`:
 * true while the stream is open (the backend serves it only when `mp.webhooks()`
 * is mounted), e.g. to switch off `useTier`'s checkout polling.
 */
export function useMarketplaceEventsWith(
  apiBase: string,
  options: { enabled?: boolean; onEvent?: (event: BrowserEvent) => void } = {},
) {
  const client = useQueryClient();
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const enabled = options.enabled ?? true;
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const source = new EventSource(`${apiBase}/api/me/events`, { withCredentials: true });
    source.addEventListener("open", () => setConnected(true));
    source.addEventListener("error", () => setConnected(false));
    source.addEventListener("marketplace", (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as BrowserEvent;
      void client.invalidateQueries({ queryKey: ["agent-kit", "tier"] });
      void client.invalidateQueries({ queryKey: ["agent-kit", "usage"] });
      onEvent.current?.(event);
    });
    return () => {
      source.close();
      setConnected(false);
    };
  }, [apiBase, client, enabled]);
  return { connected };
}
