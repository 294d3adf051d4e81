import { NavLink, Outlet } from "react-router";
import { signInUrl } from "../api/client.ts";
import { useMe } from "../api/queries.ts";
import { QueryState } from "../components/QueryState.tsx";
import "./console.css";

/**
 * The console frame: its own tabs under the app's header. Only platform
 * admins see it; the server refuses every admin route to anyone else, this
 * only spares them a page of errors.
 */
export function ConsoleLayout() {
  const { me, isAdmin, isPending, error } = useMe();
  if (isPending || error) return <QueryState isPending={isPending} error={error} />;
  if (!me)
    return (
      <section className="card">
        <h1>Operator console</h1>
        <p>Sign in as a platform admin to use the console.</p>
        <a className="btn btn-primary" href={signInUrl()}>
          Sign in
        </a>
      </section>
    );
  if (!isAdmin)
    return (
      <section className="card" data-testid="console-forbidden">
        <h1>Not allowed</h1>
        <p>The operator console is for platform admins (403).</p>
      </section>
    );
  return (
    <div className="console">
      <h1>Operator console</h1>
      <nav className="tabs" aria-label="Console">
        <NavLink to="/console" end>
          Agents
        </NavLink>
        <NavLink to="/console/users">Users</NavLink>
        <NavLink to="/console/subscriptions">Subscriptions &amp; usage</NavLink>
        <NavLink to="/console/stripe">Stripe events</NavLink>
        <NavLink to="/console/audit">Audit log</NavLink>
      </nav>
      <Outlet />
    </div>
  );
}
