import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="card stack" aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p className="muted">
        There is no page at this address. It may have moved, or the link may be mistyped.
      </p>
      <div className="actions">
        <Link className="btn btn-primary" to="/">
          Browse the catalog
        </Link>
        <Link className="btn btn-ghost" to="/account">
          Your account
        </Link>
      </div>
    </section>
  );
}
