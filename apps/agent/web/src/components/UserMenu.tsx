import { useSignOut } from "@amp/agent-kit/react";
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

  const out = async (marketplace: boolean) => {
    setBusy(true);
    try {
      await signOut({ marketplace });
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
        onClick={() => setOpen((v) => !v)}
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
        </section>
      ) : null}
    </div>
  );
}
