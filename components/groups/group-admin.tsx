"use client";

import type { FormEvent } from "react";
import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { groupsApi } from "@/lib/api";

interface GroupRow {
  id: string;
  name: string;
  description: string;
  members: { id: string; email: string; name: string; kind: string; source: string }[];
}

export function GroupAdmin({
  groups,
  people,
}: {
  groups: GroupRow[];
  people: { id: string; email: string }[];
}) {
  const { error, busy, run } = useApiAction();

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    await run(async () => {
      await groupsApi.create({
        name: String(form.get("name") ?? ""),
        description: String(form.get("description") ?? ""),
      });
      formEl.reset();
    });
  }

  return (
    <>
      <Alerts error={error} />
      {groups.length === 0 ? (
        <div className="panel empty">
          <strong>No groups yet</strong>
          Create a group below, add people to it, then allow it on a connection.
        </div>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th>Group</th>
              <th>Members</th>
              <th>Add a member</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.id}>
                <td>
                  <strong>{g.name}</strong>
                  {g.description && <div className="muted small">{g.description}</div>}
                </td>
                <td>
                  {g.members.length === 0 && <span className="muted small">nobody yet</span>}
                  {g.members.map((m) => (
                    <span className="tag" key={m.id}>
                      {m.kind === "service" ? `⚙ ${m.name}` : m.email}
                      {m.source === "local" ? "" : " (SSO)"}{" "}
                      {m.source === "local" && (
                        <button
                          type="button"
                          aria-label={`Remove ${m.email} from ${g.name}`}
                          style={{
                            border: "none",
                            background: "none",
                            cursor: "pointer",
                            color: "#b42318",
                            padding: 0,
                          }}
                          onClick={() => run(() => groupsApi.removeMember(g.id, m.id))}
                        >
                          ×
                        </button>
                      )}
                    </span>
                  ))}
                </td>
                <td>
                  <form
                    className="btn-row"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const userId = String(new FormData(e.currentTarget).get("userId") ?? "");
                      if (userId) void run(() => groupsApi.addMember(g.id, userId));
                    }}
                  >
                    <select
                      name="userId"
                      aria-label={`Person to add to ${g.name}`}
                      defaultValue=""
                      style={{ width: "auto" }}
                    >
                      <option value="" disabled>
                        choose…
                      </option>
                      {people
                        .filter((p) => !g.members.some((m) => m.id === p.id))
                        .map((p) => (
                          <option key={p.id} value={p.id}>
                            {p.email}
                          </option>
                        ))}
                    </select>
                    <button className="btn small" type="submit">
                      Add
                    </button>
                  </form>
                </td>
                <td>
                  <button
                    className="btn small danger"
                    type="button"
                    onClick={() => {
                      if (
                        window.confirm(`Delete the group ${g.name}? Its members lose the access it gave.`)
                      ) {
                        void run(() => groupsApi.remove(g.id));
                      }
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Create a group</h2>
      <div className="panel">
        <form className="stack" onSubmit={onCreate} aria-label="New group">
          <div className="grid-2">
            <div className="field">
              <label htmlFor="group-name">Name</label>
              <input id="group-name" name="name" type="text" required placeholder="data-analysts" />
            </div>
            <div className="field">
              <label htmlFor="group-description">Description</label>
              <input id="group-description" name="description" type="text" />
            </div>
          </div>
          <div>
            <button className="btn primary" type="submit" disabled={busy}>
              Create group
            </button>
          </div>
        </form>
      </div>
    </>
  );
}
