"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { callApi } from "@/components/ui/api";

interface TokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface AccountRow {
  id: string;
  name: string;
  groups: string[];
  tokens: TokenRow[];
}

function tokenState(t: TokenRow) {
  if (t.revokedAt) return <span className="tag off">revoked</span>;
  if (t.expiresAt && new Date(t.expiresAt).getTime() < Date.now())
    return <span className="tag off">expired</span>;
  return <span className="tag ok">active</span>;
}

export function ServiceAccountAdmin({
  accounts,
  allGroups,
}: {
  accounts: AccountRow[];
  allGroups: string[];
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState<{ account: string; token: string } | null>(null);

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const days = String(form.get("expiresInDays") ?? "");
    await run(async () => {
      const created = await callApi<{ name: string; token: string }>("/api/v1/service-accounts", {
        body: {
          name: String(form.get("name") ?? ""),
          groups: form.getAll("groups").map(String),
          ...(days && { expiresInDays: Number(days) }),
        },
      });
      setShown({ account: created.name, token: created.token });
      formEl.reset();
    });
  }

  return (
    <>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {shown && (
        <div className="panel" role="status">
          <strong>Token for {shown.account}</strong>
          <p className="small muted">Copy it now: it is shown once and stored only as a hash.</p>
          <div className="token-once" data-testid="new-token">
            {shown.token}
          </div>
          <div className="btn-row" style={{ marginTop: 8 }}>
            <button
              className="btn small"
              type="button"
              onClick={() => navigator.clipboard?.writeText(shown.token)}
            >
              Copy
            </button>
            <button className="btn small" type="button" onClick={() => setShown(null)}>
              Done
            </button>
          </div>
        </div>
      )}
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
              <th>Groups</th>
              <th>Tokens</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.id}>
                <td>
                  <strong>{a.name}</strong>
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
                  {a.tokens.map((t) => (
                    <div key={t.id} className="small" style={{ marginBottom: 4 }}>
                      <code>{t.prefix}…</code> {t.name} {tokenState(t)}{" "}
                      <span className="muted">
                        last used {t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : "never"}
                      </span>{" "}
                      {!t.revokedAt && (
                        <button
                          className="btn small danger"
                          type="button"
                          onClick={() => run(() => callApi(`/api/v1/tokens/${t.id}`, { method: "DELETE" }))}
                        >
                          Revoke
                        </button>
                      )}
                    </div>
                  ))}
                </td>
                <td>
                  <button
                    className="btn small"
                    type="button"
                    onClick={() =>
                      run(async () => {
                        const issued = await callApi<{ token: string }>(
                          `/api/v1/service-accounts/${a.id}/tokens`,
                          { body: { name: "token" } },
                        );
                        setShown({ account: a.name, token: issued.token });
                      })
                    }
                  >
                    New token
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
                max={3650}
                placeholder="never"
              />
            </div>
          </div>
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
