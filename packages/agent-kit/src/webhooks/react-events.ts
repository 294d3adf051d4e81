import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import type { BrowserEvent } from "./events.ts";

/**
 * Listens to the signed-in user's marketplace events (Server-Sent Events from
 * the agent backend's `GET /api/me/events`, fed by `kit.webhooks`) and
 * refreshes the tier and usage at once: an upgrade, a cancellation or a
 * granted addon shows without polling. `onEvent` sees each event too.
 * EventSource reconnects by itself after a network error.
 */
export function useMarketplaceEventsWith(
  apiBase: string,
  options: { enabled?: boolean; onEvent?: (event: BrowserEvent) => void } = {},
) {
  const client = useQueryClient();
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const enabled = options.enabled ?? true;
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const source = new EventSource(`${apiBase}/api/me/events`, { withCredentials: true });
    source.addEventListener("marketplace", (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as BrowserEvent;
      void client.invalidateQueries({ queryKey: ["agent-kit", "tier"] });
      void client.invalidateQueries({ queryKey: ["agent-kit", "usage"] });
      onEvent.current?.(event);
    });
    return () => source.close();
  }, [apiBase, client, enabled]);
}
