import { type AdminUserDto, ROLES, type Role } from "@amp/contract";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { useMe } from "../api/queries.ts";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { consoleKeys, useAction } from "./hooks.ts";

const enc = encodeURIComponent;

/** Users: search by email or name; change a role; ban (sessions end) and unban. */
export function UsersPage() {
  const { me } = useMe();
  const [q, setQ] = useState("");
  const users = useQuery({
    queryKey: consoleKeys.users(q),
    queryFn: () => api<AdminUserDto[]>(`/admin/users?limit=50${q ? `&q=${enc(q)}` : ""}`),
  });
  const invalidate = [["console", "users"]];
  const setRole = useAction(
    ({ id, role }: { id: string; role: Role }) =>
      api<AdminUserDto>(`/admin/users/${enc(id)}/role`, { method: "POST", body: { role } }),
    invalidate,
  );
  const ban = useAction(
    ({ id, banned }: { id: string; banned: boolean }) =>
      api<AdminUserDto>(`/admin/users/${enc(id)}/${banned ? "unban" : "ban"}`, {
        method: "POST",
        ...(banned ? {} : { body: {} }),
      }),
    invalidate,
  );
  return (
    <section>
      <h2>Users</h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setQ(String(new FormData(event.currentTarget).get("q") ?? "").trim());
        }}
      >
        <input name="q" aria-label="Search users" placeholder="Email or name" defaultValue={q} />
        <button className="btn btn-primary" type="submit">
          Search
        </button>
      </form>
      <ErrorAlert error={setRole.error ?? ban.error} />
      <QueryState isPending={users.isPending} error={users.error}>
        <ul className="rows" aria-label="Users">
          {users.data?.map((user) => (
            <li className="row" key={user.id}>
              <div className="row-main">
                <strong>{user.name}</strong> <span className="muted">{user.email}</span>
                {user.banned && <span className="badge badge-warn">Banned</span>}
              </div>
              <div className="row-actions">
                <select
                  aria-label={`Role of ${user.email}`}
                  value={user.role}
                  disabled={user.id === me?.id || setRole.isPending}
                  onChange={(event) => setRole.mutate({ id: user.id, role: event.target.value as Role })}
                >
                  {ROLES.map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
                {user.id !== me?.id && (
                  <button
                    type="button"
                    className={user.banned ? "btn btn-ghost" : "btn btn-danger"}
                    disabled={ban.isPending}
                    onClick={() => {
                      if (user.banned || confirm(`Ban ${user.email}? Their sessions end at once.`))
                        ban.mutate({ id: user.id, banned: user.banned });
                    }}
                  >
                    {user.banned ? "Unban" : "Ban"}
                  </button>
                )}
              </div>
            </li>
          ))}
          {users.data?.length === 0 && <li className="muted">No users match.</li>}
        </ul>
      </QueryState>
    </section>
  );
}
