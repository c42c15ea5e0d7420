"use client";

import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { serviceAccountsApi } from "@/lib/api";
import { CredentialList, type CredentialRow } from "./credential-list";

type Role = "member" | "auditor" | "admin";

interface AccountRow {
  id: string;
  name: string;
  role: Role;
  groups: string[];
  tokens: CredentialRow[];
  clientSecrets: CredentialRow[];
}

/** A secret shown once, right after it was made: its label, the values to copy, and how to use it. */
interface ShownOnce {
  title: string;
  values: { label: string; value: string; testId: string }[];
  note?: string;
}

/** The longest an admin service account's token may live (server/auth/principal.ts). */
const ADMIN_MAX_DAYS = 90;

const ROLE_TEXT: Record<Role, string> = {
  member: "member: uses the connections its groups allow",
  auditor: "auditor: reads the audit log and its stream, every session and access reviews; runs nothing",
  admin: "admin: every permission",
};

const ADMIN_WARNING = `An admin service account can manage people, tokens, policies and connections: a leaked token is a leaked console. Giving this role is audited, and its tokens and client secrets must expire within ${ADMIN_MAX_DAYS} days.`;

function ShownOncePanel({ shown, onDone }: { shown: ShownOnce; onDone: () => void }) {
  return (
    <div className="panel" role="status">
      <strong>{shown.title}</strong>
      <p className="small muted">Copy it now: it is shown once and stored only as a hash.</p>
      {shown.values.map((v) => (
        <div key={v.testId} style={{ marginBottom: 8 }}>
          <div className="small muted">{v.label}</div>
          <div className="token-once" data-testid={v.testId}>
            {v.value}
          </div>
          <button
            className="btn small"
            type="button"
            style={{ marginTop: 4 }}
            onClick={() => navigator.clipboard?.writeText(v.value)}
          >
            Copy {v.label.toLowerCase()}
          </button>
        </div>
      ))}
      {shown.note && <p className="small muted">{shown.note}</p>}
      <div className="btn-row">
        <button className="btn small" type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function ServiceAccountAdmin({
  accounts,
  allGroups,
}: {
  accounts: AccountRow[];
  allGroups: string[];
}) {
  const { error, run } = useApiAction();
  const [shown, setShown] = useState<ShownOnce | null>(null);
  const [newRole, setNewRole] = useState<Role>("member");
  /** an admin's credentials must expire: ask for the longest allowed */
  const lifetimeFor = (role: Role) => (role === "admin" ? { expiresInDays: ADMIN_MAX_DAYS } : {});

  function changeRole(account: AccountRow, role: Role) {
    if (role === "admin" && !window.confirm(`${ADMIN_WARNING}\n\nMake ${account.name} an admin?`)) return;
    void run(() => serviceAccountsApi.setRole(account.id, role));
  }
  const showToken = (account: string, token: string, note?: string) =>
    setShown({
      title: `Token for ${account}`,
      values: [{ label: "Token", value: token, testId: "new-token" }],
      ...(note && { note }),
    });

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const days = String(form.get("expiresInDays") ?? "");
    await run(async () => {
      const created = await serviceAccountsApi.create({
        name: String(form.get("name") ?? ""),
        groups: form.getAll("groups").map(String),
        role: newRole,
        ...(days && { expiresInDays: Number(days) }),
      });
      showToken(created.name, created.token);
      formEl.reset();
      setNewRole("member");
    });
  }

  return (
    <>
      <Alerts error={error} />
      {shown && <ShownOncePanel shown={shown} onDone={() => setShown(null)} />}
      {accounts.length === 0 ? (
        <div className="panel empty">
          <strong>No service accounts yet</strong>
          Create one for a CI job, a service or an AI agent; put it in the groups whose connections it needs.
        </div>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th>Service account</th>
              <th>Role</th>
              <th>Groups</th>
              <th>Tokens</th>
              <th>Client secrets</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.id}>
                <td>
                  <strong>{a.name}</strong>
                  <div className="small muted mono" title="OAuth client id">
                    client id {a.id}
                  </div>
                </td>
                <td className="role-cell">
                  <select
                    className="role-select"
                    aria-label={`Role of ${a.name}`}
                    value={a.role}
                    onChange={(e) => changeRole(a, e.target.value as Role)}
                  >
                    {(["member", "auditor", "admin"] as const).map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                  {a.role === "admin" && <span className="tag admin">admin</span>}
                </td>
                <td>
                  {a.groups.length === 0 ? (
                    <span className="muted small">none</span>
                  ) : (
                    a.groups.map((g) => (
                      <span className="tag" key={g}>
                        {g}
                      </span>
                    ))
                  )}
                </td>
                <td>
                  <CredentialList
                    kind="token"
                    items={a.tokens}
                    onRevoke={(id) => run(() => serviceAccountsApi.revokeToken(id))}
                    onRotate={(id, graceSeconds) =>
                      run(async () => {
                        const rotated = await serviceAccountsApi.rotateToken(a.id, id, graceSeconds);
                        showToken(
                          a.name,
                          rotated.token,
                          rotated.previous.worksUntil
                            ? `The old token keeps working until ${new Date(rotated.previous.worksUntil).toLocaleString()}.`
                            : "The old token is revoked.",
                        );
                      })
                    }
                  />
                  <button
                    className="btn small"
                    type="button"
                    style={{ marginTop: 4, whiteSpace: "nowrap" }}
                    onClick={() =>
                      run(async () => {
                        const issued = await serviceAccountsApi.issueToken(a.id, {
                          name: "token",
                          ...lifetimeFor(a.role),
                        });
                        showToken(a.name, issued.token);
                      })
                    }
                  >
                    New token
                  </button>
                </td>
                <td>
                  <CredentialList
                    kind="client secret"
                    items={a.clientSecrets}
                    onRevoke={(id) => run(() => serviceAccountsApi.revokeClientSecret(a.id, id))}
                  />
                  <button
                    className="btn small"
                    type="button"
                    style={{ marginTop: 4, whiteSpace: "nowrap" }}
                    onClick={() =>
                      run(async () => {
                        const created = await serviceAccountsApi.createClientSecret(a.id, {
                          name: "client secret",
                          ...lifetimeFor(a.role),
                        });
                        setShown({
                          title: `Client credentials for ${a.name}`,
                          values: [
                            { label: "Client id", value: created.clientId, testId: "new-client-id" },
                            {
                              label: "Client secret",
                              value: created.clientSecret,
                              testId: "new-client-secret",
                            },
                          ],
                          note: "Exchange them at POST /api/v1/oauth/token (grant_type=client_credentials, HTTP Basic) for an access token that lasts minutes; revoking the secret ends those tokens at once.",
                        });
                      })
                    }
                  >
                    New client secret
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Create a service account</h2>
      <div className="panel">
        <form className="stack" onSubmit={onCreate} aria-label="New service account">
          <div className="grid-2">
            <div className="field">
              <label htmlFor="sa-name">Name</label>
              <input
                id="sa-name"
                name="name"
                type="text"
                required
                placeholder="nightly-report"
                pattern="[a-z0-9][a-z0-9._\-]*"
              />
            </div>
            <div className="field">
              <label htmlFor="sa-expiry">Token expires after (days)</label>
              <input
                id="sa-expiry"
                name="expiresInDays"
                type="number"
                min={1}
                max={newRole === "admin" ? ADMIN_MAX_DAYS : 3650}
                required={newRole === "admin"}
                placeholder={newRole === "admin" ? `at most ${ADMIN_MAX_DAYS}` : "never"}
              />
            </div>
          </div>
          <div className="field">
            <label htmlFor="sa-role">Role</label>
            <select
              id="sa-role"
              name="role"
              value={newRole}
              onChange={(e) => setNewRole(e.target.value as Role)}
            >
              {(["member", "auditor", "admin"] as const).map((r) => (
                <option key={r} value={r}>
                  {ROLE_TEXT[r]}
                </option>
              ))}
            </select>
          </div>
          {newRole === "admin" && (
            <div className="alert warn" role="alert" data-testid="admin-warning">
              {ADMIN_WARNING}
            </div>
          )}
          {allGroups.length > 0 && (
            <fieldset>
              <legend>Groups</legend>
              <div className="checks">
                {allGroups.map((g) => (
                  <label key={g}>
                    <input type="checkbox" name="groups" value={g} /> {g}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          <div>
            <button className="btn primary" type="submit">
              Create and show token
            </button>
          </div>
        </form>
      </div>
    </>
  );
}
