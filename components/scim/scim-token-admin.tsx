"use client";

import { type FormEvent, useState } from "react";
import { formatTime } from "@/components/replay/format";
import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { type ScimTokenRow, scimTokensApi } from "@/lib/api";

/**
 * The SCIM tokens page's list, its form to mint one (shown once, with the base URL to give the provider) and
 * its revoke buttons. Not responsible for what a token may do (server/scim).
 */
export function ScimTokenAdmin({ tokens, baseUrl }: { tokens: ScimTokenRow[]; baseUrl: string }) {
  const { error, notice, busy, run } = useApiAction();
  const [name, setName] = useState("");
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);

  async function onCreate(event: FormEvent) {
    event.preventDefault();
    let created: { name: string; token: string } | undefined;
    const ok = await run(async () => {
      created = await scimTokensApi.create(name.trim() || "identity provider");
    });
    if (ok && created) {
      setShown({ name: created.name, token: created.token });
      setName("");
    }
  }

  function revoke(token: ScimTokenRow) {
    if (
      !window.confirm(
        `Revoke the SCIM token “${token.name}” (${token.prefix}…)? The identity provider using it can no longer provision people or groups.`,
      )
    )
      return;
    void run(() => scimTokensApi.revoke(token.id), `Revoked ${token.name}`);
  }

  return (
    <>
      <Alerts error={error} notice={shown ? null : notice} />
      {shown && (
        <div className="panel" role="status" aria-label="New SCIM token">
          <strong>SCIM token for {shown.name}</strong>
          <p className="small muted">
            Copy it now: it is shown once and stored only as a hash. In the identity provider, enter the base
            URL and this token as the bearer token (HTTP header authentication).
          </p>
          <div className="small muted">Base URL</div>
          <div className="token-once" data-testid="scim-base-url">
            {baseUrl}
          </div>
          <div className="small muted" style={{ marginTop: 8 }}>
            Token
          </div>
          <div className="token-once" data-testid="scim-token">
            {shown.token}
          </div>
          <div className="btn-row">
            <button
              className="btn small"
              type="button"
              onClick={() => void navigator.clipboard?.writeText(shown.token)}
            >
              Copy token
            </button>
            <button className="btn small" type="button" onClick={() => setShown(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {tokens.length === 0 ? (
        <div className="panel empty">
          <strong>No SCIM tokens yet</strong>
          Mint one for your identity provider below; it is shown once.
        </div>
      ) : (
        <table className="data" aria-label="SCIM tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Created</th>
              <th>Last used</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>
                  <strong>{t.name}</strong>
                </td>
                <td className="mono small">{t.prefix}…</td>
                <td className="small">
                  {formatTime(t.createdAt)} <span className="muted">by {t.createdBy}</span>
                </td>
                <td className="small">{t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"}</td>
                <td>
                  {t.revokedAt ? (
                    <span className="tag off" title={`revoked ${formatTime(t.revokedAt)}`}>
                      revoked
                    </span>
                  ) : (
                    <span className="tag ok">active</span>
                  )}
                </td>
                <td>
                  {!t.revokedAt && (
                    <button
                      type="button"
                      className="btn small danger"
                      disabled={busy}
                      onClick={() => revoke(t)}
                      aria-label={`Revoke ${t.name}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Mint a token</h2>
      <div className="panel">
        <form className="stack" onSubmit={onCreate} aria-label="New SCIM token">
          <div className="field">
            <label htmlFor="scim-name">Name</label>
            <input
              id="scim-name"
              type="text"
              value={name}
              maxLength={64}
              placeholder="e.g. okta"
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="btn-row">
            <button className="btn primary" type="submit" disabled={busy}>
              Create token
            </button>
          </div>
        </form>
      </div>
    </>
  );
}
