"use client";
// A person's database credentials on their account page: for which connection, until when, last used, and a
// Revoke button (the sessions opened with it end at once). Never the password: it was shown once.

import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { databaseCredentialsApi } from "@/lib/api";

export interface CredentialRow {
  id: string;
  connection: string;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  state: "active" | "expired" | "revoked";
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

export function CredentialList({ credentials }: { credentials: CredentialRow[] }) {
  const { error, notice, busy, run } = useApiAction();
  if (credentials.length === 0) {
    return (
      <p className="small muted">
        None yet. Open a connection in the SQL editor and use “Connect with psql…” to get one.
      </p>
    );
  }
  return (
    <>
      <Alerts error={error} notice={notice} />
      <table className="data" aria-label="Database credentials">
        <thead>
          <tr>
            <th>Connection</th>
            <th>Starts with</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {credentials.map((c) => (
            <tr key={c.id}>
              <td className="small">{c.connection}</td>
              <td className="small">
                <code>{c.prefix}…</code>
              </td>
              <td className="small">{when(c.createdAt)}</td>
              <td className="small">{when(c.expiresAt)}</td>
              <td className="small">{when(c.lastUsedAt)}</td>
              <td className="small">{c.state}</td>
              <td>
                {c.state === "active" && (
                  <button
                    type="button"
                    className="btn small danger"
                    aria-label={`Revoke ${c.prefix}… for ${c.connection}`}
                    disabled={busy}
                    onClick={() =>
                      void run(() => databaseCredentialsApi.revoke(c.id), "Revoked: its sessions were ended.")
                    }
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
