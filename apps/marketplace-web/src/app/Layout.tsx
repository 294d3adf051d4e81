import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { API_BASE, authCall, signInUrl, signUpUrl } from "../api/client.ts";
import { useMe } from "../api/queries.ts";

/** The frame of every page: header with navigation, the page, a footer. */
export function Layout() {
  const { me, isAdmin, isPending } = useMe();
  const location = useLocation();
  return (
    <div className="shell">
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="logo" aria-label="Agent Marketplace home">
            <span className="logo-mark" aria-hidden="true">
              ◆
            </span>
            <span className="logo-text">Agent Marketplace</span>
          </Link>
          <nav aria-label="Main" className="nav">
            <NavLink to="/" end>
              Catalog
            </NavLink>
            {me && <NavLink to="/account">Account</NavLink>}
            {isAdmin && <NavLink to="/console">Console</NavLink>}
          </nav>
          <div className="session">
            {isPending ? null : me ? (
              <SignOutButton />
            ) : (
              <>
                <a className="btn btn-ghost" href={signInUrl(location.pathname + location.search)}>
                  Sign in
                </a>
                <a
                  className="btn btn-primary hide-narrow"
                  href={signUpUrl(location.pathname + location.search)}
                >
                  Sign up
                </a>
              </>
            )}
          </div>
        </div>
      </header>
      <main id="content" className="content">
        <Outlet />
      </main>
      <footer className="footer">
        <div className="footer-inner">
          <nav aria-label="Footer">
            <Link to="/">Catalog</Link>
            <Link to="/account">Account</Link>
            <a href={`${API_BASE}/docs`}>API reference</a>
          </nav>
          <span className="muted">Agent Marketplace</span>
        </div>
      </footer>
    </div>
  );
}

function SignOutButton() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-ghost"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await authCall("/sign-out", {});
        } finally {
          queryClient.clear();
          setBusy(false);
          navigate("/");
        }
      }}
    >
      Sign out
    </button>
  );
}
