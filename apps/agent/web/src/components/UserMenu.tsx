import { AgentApiError, useSignOut } from "@amp/agent-kit/react";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { api } from "../api.ts";

export interface PlanLinks {
  pricingUrl: string;
  accountUrl: string;
}

export function usePlanLinks() {
  return useQuery({
    queryKey: ["plan-links"],
    queryFn: () => api<PlanLinks>("/api/plan-links"),
    staleTime: Infinity,
  });
}

/**
 * The account menu: plan and usage on the marketplace, and the two tiers of sign-out. Signing out of the
 * marketplace too ends that session as well (agent-kit answers an end-session URL to visit), so the next
 * "Sign in" asks for credentials again.
 */
export function UserMenu({ name, email }: { name: string; email: string }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const signOut = useSignOut();
  const links = usePlanLinks();
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        toggle.current?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);

  // A failed sign-out is said in the panel (the session is still there, so trying again is safe);
  // nothing is rethrown, so the browser records no unhandled rejection.
  const out = async (marketplace: boolean) => {
    setBusy(true);
    setFailure(null);
    try {
      await signOut({ marketplace });
    } catch (err) {
      const why =
        err instanceof AgentApiError ? `the agent answered ${err.status}` : "the agent could not be reached";
      setFailure(`Signing out failed: ${why}. You are still signed in; please try again.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="menu" ref={root}>
      <button
        ref={toggle}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => {
          setOpen((v) => !v);
          setFailure(null);
        }}
      >
        <span className="who">{name}</span> <span aria-hidden="true">▾</span>
        <span className="sr-only"> — account menu</span>
      </button>
      {open ? (
        <section id={panelId} className="menu-panel card" aria-label="Account">
          <p className="muted small">Signed in as {email}</p>
          {links.data ? (
            <>
              <a href={links.data.accountUrl}>Plan and usage</a>
              <a href={links.data.pricingUrl}>Compare plans</a>
            </>
          ) : null}
          <hr />
          <button type="button" disabled={busy} onClick={() => void out(false)}>
            Sign out
          </button>
          <button type="button" disabled={busy} onClick={() => void out(true)}>
            Sign out of the marketplace too
          </button>
          {failure ? (
            <p role="alert" className="small">
              {failure}
            </p>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
