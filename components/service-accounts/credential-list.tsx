"use client";

// A service account's tokens or client secrets: prefix, name, state, last use, and the actions on each
// (revoke; for tokens also rotate with a chosen grace period). Never the secret itself.
import { useState } from "react";

export interface CredentialRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function isLive(c: CredentialRow): boolean {
  return !c.revokedAt && !(c.expiresAt && new Date(c.expiresAt).getTime() <= Date.now());
}

function CredentialState({ credential }: { credential: CredentialRow }) {
  if (credential.revokedAt) return <span className="tag off">revoked</span>;
  if (!isLive(credential)) return <span className="tag off">expired</span>;
  if (credential.expiresAt) {
    const until = new Date(credential.expiresAt);
    // Within two days (a rotation's grace period, say) the hour matters; further out the day is enough.
    const isSoon = until.getTime() - Date.now() < 2 * 86_400_000;
    return (
      <span className="tag ok" title={`until ${until.toLocaleString()}`}>
        active until {isSoon ? until.toLocaleString() : until.toLocaleDateString()}
      </span>
    );
  }
  return <span className="tag ok">active</span>;
}

/** How long the old token keeps working after a rotation. */
export const GRACE_CHOICES = [
  { seconds: 0, label: "old: revoke now" },
  { seconds: 3600, label: "old: 1 more hour" },
  { seconds: 86_400, label: "old: 1 more day" },
  { seconds: 604_800, label: "old: 7 more days" },
] as const;

function RotateControl({ name, onRotate }: { name: string; onRotate: (graceSeconds: number) => void }) {
  const [grace, setGrace] = useState(0);
  return (
    <span className="btn-row" style={{ display: "inline-flex", gap: 4, flexWrap: "nowrap" }}>
      <select
        aria-label={`Grace period when rotating ${name}`}
        value={grace}
        onChange={(e) => setGrace(Number(e.target.value))}
        style={{ width: "auto", padding: "0.15rem 0.3rem", fontSize: "0.8rem" }}
      >
        {GRACE_CHOICES.map((c) => (
          <option key={c.seconds} value={c.seconds}>
            {c.label}
          </option>
        ))}
      </select>
      <button className="btn small" type="button" onClick={() => onRotate(grace)}>
        Rotate
      </button>
    </span>
  );
}

export function CredentialList({
  kind,
  items,
  onRevoke,
  onRotate,
}: {
  kind: "token" | "client secret";
  items: CredentialRow[];
  onRevoke: (id: string) => void;
  onRotate?: (id: string, graceSeconds: number) => void;
}) {
  if (items.length === 0) return <div className="muted small">none</div>;
  return (
    <ul
      aria-label={kind === "token" ? "Tokens" : "Client secrets"}
      style={{ listStyle: "none", margin: 0, padding: 0 }}
    >
      {items.map((c) => (
        <li key={c.id} className="small" style={{ marginBottom: 6 }}>
          <code>{c.prefix}…</code> {c.name} <CredentialState credential={c} />{" "}
          <span className="muted">
            last used {c.lastUsedAt ? new Date(c.lastUsedAt).toLocaleString() : "never"}
          </span>
          {isLive(c) && (
            <span className="btn-row" style={{ display: "inline-flex", marginLeft: 6 }}>
              {onRotate && (
                <RotateControl name={`${c.name} ${c.prefix}`} onRotate={(g) => onRotate(c.id, g)} />
              )}
              <button
                className="btn small danger"
                type="button"
                aria-label={`Revoke ${kind} ${c.prefix}`}
                onClick={() => onRevoke(c.id)}
              >
                Revoke
              </button>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
