"use client";
// A table of access grants with their time left and the actions the viewer may take (approve, deny, revoke).

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { grantsApi } from "@/lib/api";

export interface GrantItem {
  id: string;
  state: string;
  requester: string;
  connection: string;
  reason: string;
  durationMinutes: number;
  requestedAt: string;
  expiresAt: string | null;
  canDecide: boolean;
  canRevoke: boolean;
}

const STATE_TONE: Record<string, string> = {
  pending: "secret",
  active: "ok",
  denied: "off",
  revoked: "off",
  expired: "",
};

function formatLeft(ms: number): string {
  if (ms <= 0) return "expired";
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

function formatDuration(minutes: number): string {
  return minutes < 60
    ? `${minutes} min`
    : `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}

/** Re-renders every 30 seconds so time left counts down without a reload. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function GrantTable({
  grants,
  label,
  showRequester,
}: {
  grants: GrantItem[];
  label: string;
  showRequester: boolean;
}) {
  const router = useRouter();
  const now = useNow();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function act(id: string, action: "approve" | "deny" | "revoke") {
    setBusy(id);
    setError(null);
    try {
      await grantsApi.act(id, action);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <Alerts error={error} />
      <table className="data" aria-label={label}>
        <thead>
          <tr>
            {showRequester && <th>Person</th>}
            <th>Connection</th>
            <th>Duration</th>
            <th>Reason</th>
            <th>State</th>
            <th>Time left</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {grants.map((g) => {
            const isLive = g.state === "active" && g.expiresAt !== null;
            const left = isLive && g.expiresAt ? new Date(g.expiresAt).getTime() - now : 0;
            const state = isLive && left <= 0 ? "expired" : g.state;
            return (
              <tr key={g.id} data-grant-id={g.id}>
                {showRequester && <td>{g.requester}</td>}
                <td>
                  <strong>{g.connection}</strong>
                </td>
                <td>{formatDuration(g.durationMinutes)}</td>
                <td className="small">{g.reason || <span className="muted">none given</span>}</td>
                <td>
                  <span className={`tag ${STATE_TONE[state] ?? ""}`}>{state}</span>
                </td>
                <td className="small">{isLive ? formatLeft(left) : "—"}</td>
                <td>
                  <div className="btn-row" style={{ flexWrap: "nowrap" }}>
                    {g.canDecide && (
                      <>
                        <button
                          className="btn small primary"
                          type="button"
                          disabled={busy === g.id}
                          onClick={() => act(g.id, "approve")}
                        >
                          Approve
                        </button>
                        <button
                          className="btn small danger"
                          type="button"
                          disabled={busy === g.id}
                          onClick={() => act(g.id, "deny")}
                        >
                          Deny
                        </button>
                      </>
                    )}
                    {g.canRevoke && left > 0 && (
                      <button
                        className="btn small danger"
                        type="button"
                        disabled={busy === g.id}
                        onClick={() => act(g.id, "revoke")}
                      >
                        Revoke
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
