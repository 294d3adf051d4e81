import type { CreatedAgentDto } from "@amp/contract";
import { Link, useNavigate } from "react-router";
import { api } from "../api/client.ts";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { consoleKeys, orNull, useAction, useConsoleAgents } from "./hooks.ts";
import { StatusBadge } from "./StatusBadge.tsx";

/** Every agent, drafts and inactive ones included, and the form that registers a new one. */
export function AgentsPage() {
  const agents = useConsoleAgents();
  const navigate = useNavigate();
  const create = useAction(
    (body: Record<string, unknown>) => api<CreatedAgentDto>("/agents", { method: "POST", body }),
    [consoleKeys.agents],
  );
  return (
    <section>
      <h2>Agents</h2>
      <QueryState isPending={agents.isPending} error={agents.error}>
        <ul className="rows" aria-label="Agents">
          {agents.data?.map((agent) => (
            <li className="row" key={agent.id}>
              <div className="row-main">
                <Link to={`/console/agents/${agent.id}`}>
                  <strong>{agent.name}</strong>
                </Link>{" "}
                <span className="muted mono">{agent.slug}</span>
                <div className="muted">{agent.tagline ?? "No tagline"}</div>
              </div>
              <StatusBadge status={agent.status} />
            </li>
          ))}
          {agents.data?.length === 0 && <li className="muted">No agents yet.</li>}
        </ul>
      </QueryState>

      <h2>Register an agent</h2>
      <form
        className="card"
        aria-label="Register an agent"
        onSubmit={async (event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const created = await create.mutateAsync({
            name: String(form.get("name") ?? "").trim(),
            slug: String(form.get("slug") ?? "").trim(),
            tagline: orNull(form.get("tagline")),
            productDomain: orNull(form.get("productDomain")),
            redirectUris: String(form.get("redirectUris") ?? "")
              .split(/\s+/)
              .filter(Boolean),
            status: "draft",
          });
          navigate(`/console/agents/${created.id}`);
        }}
      >
        <div className="form-grid">
          <div>
            <label htmlFor="new-name">Name</label>
            <input id="new-name" name="name" required maxLength={120} />
          </div>
          <div>
            <label htmlFor="new-slug">Slug</label>
            <input id="new-slug" name="slug" required pattern="[a-z0-9]+(-[a-z0-9]+)*" />
            <span className="field-hint">Lowercase letters, digits, dashes; fixed once published.</span>
          </div>
          <div>
            <label htmlFor="new-tagline">Tagline</label>
            <input id="new-tagline" name="tagline" maxLength={200} />
          </div>
          <div>
            <label htmlFor="new-domain">Product domain</label>
            <input id="new-domain" name="productDomain" type="url" placeholder="https://agent.example.com" />
          </div>
          <div>
            <label htmlFor="new-redirects">OAuth redirect URIs</label>
            <textarea id="new-redirects" name="redirectUris" required placeholder="One per line" />
          </div>
        </div>
        <ErrorAlert error={create.error} />
        <div className="actions">
          <button className="btn btn-primary" type="submit" disabled={create.isPending}>
            Create agent (draft)
          </button>
        </div>
      </form>
    </section>
  );
}
