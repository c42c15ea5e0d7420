"use client";
// A campaign's items for the viewer: the evidence shown at the campaign's start, and keep / revoke with a
// comment. A revoke shows what it will do and asks to confirm; bulk buttons decide every unused item of mine.

import { useRouter } from "next/navigation";
import { useState } from "react";
import { accessReviewsApi, type CampaignItem, describePath } from "@/lib/api";

// The evidence words are pure (no server-only code), shared with the server so both read paths alike.

export type { CampaignItem };

const day = (iso: string) => iso.slice(0, 10);

function Decide({ campaignId, item }: { campaignId: string; item: CampaignItem }) {
  const router = useRouter();
  const [comment, setComment] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function decide(decision: "keep" | "revoke") {
    setBusy(true);
    setError(null);
    try {
      await accessReviewsApi.decideItem(campaignId, item.id, { decision, comment });
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="item-decide">
      <textarea
        aria-label={`Comment on ${item.principal}`}
        placeholder="comment"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
      {confirming ? (
        <>
          <div className="consequence" role="alert">
            {item.consequence}
          </div>
          <div className="btn-row">
            <button
              type="button"
              className="btn small danger"
              disabled={busy}
              onClick={() => decide("revoke")}
            >
              Confirm revoke
            </button>
            <button type="button" className="btn small" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <div className="btn-row">
          <button type="button" className="btn small" disabled={busy} onClick={() => decide("keep")}>
            Keep
          </button>
          <button
            type="button"
            className="btn small danger"
            disabled={busy}
            onClick={() => setConfirming(true)}
          >
            Revoke
          </button>
        </div>
      )}
      {error && <div className="alert error small">{error}</div>}
    </div>
  );
}

export function BulkUnused({ campaignId, count }: { campaignId: string; count: number }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"keep" | "revoke" | null>(null);

  async function run(decision: "keep" | "revoke") {
    setError(null);
    try {
      await accessReviewsApi.decideUnused(campaignId, {
        decision,
        comment: `bulk ${decision}: unused access`,
      });
      setConfirm(null);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (count === 0) return null;
  return (
    <div className="panel no-print">
      <strong>{count} of your items are unused standing access.</strong>{" "}
      {confirm ? (
        <>
          <span className="consequence">
            {confirm === "revoke"
              ? "Each principal loses that connection through its groups at once, and live terminals there end."
              : "Each is kept as it is."}
          </span>{" "}
          <button type="button" className="btn small danger" onClick={() => run(confirm)}>
            Confirm {confirm} all unused
          </button>{" "}
          <button type="button" className="btn small" onClick={() => setConfirm(null)}>
            Cancel
          </button>
        </>
      ) : (
        <>
          <button type="button" className="btn small danger" onClick={() => setConfirm("revoke")}>
            Revoke all unused
          </button>{" "}
          <button type="button" className="btn small" onClick={() => setConfirm("keep")}>
            Keep all unused
          </button>
        </>
      )}
      {error && <div className="alert error">{error}</div>}
    </div>
  );
}

export function CampaignAdminActions({ campaignId }: { campaignId: string }) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);

  async function act(action: "close" | "remind") {
    setMessage(null);
    try {
      await accessReviewsApi.act(campaignId, action);
      setMessage(action === "remind" ? "Reminder sent to the webhooks." : null);
      router.refresh();
    } catch (err) {
      setMessage((err as Error).message);
    }
  }

  return (
    <div className="btn-row no-print">
      <button type="button" className="btn" onClick={() => act("remind")}>
        Send reminder
      </button>
      <button type="button" className="btn primary" onClick={() => act("close")}>
        Close review
      </button>
      {message && <span className="muted small">{message}</span>}
    </div>
  );
}

export function CampaignItems({ campaignId, items }: { campaignId: string; items: CampaignItem[] }) {
  return (
    <div className="table-scroll">
      <table className="data matrix" aria-label="Review items">
        <thead>
          <tr>
            <th>Principal</th>
            <th>Connection</th>
            <th>Access through</th>
            <th>Last used</th>
            <th className="num">Sessions 30 / 90 d</th>
            <th className="num">Statements 30 / 90 d</th>
            <th>Touched</th>
            <th>Reviewer</th>
            <th>Decision</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => {
            const e = item.evidence;
            return (
              <tr key={item.id} className={e.isUnused && !item.decision ? "flag-unused" : undefined}>
                <td>
                  {item.principal}
                  {item.principalKind === "service" && <span className="tag">service</span>}
                </td>
                <td>{item.connection}</td>
                <td className="small">
                  {e.paths.map((p) => (
                    <div key={describePath(p)}>{describePath(p)}</div>
                  ))}
                  <div className="muted">since {day(e.since)}</div>
                </td>
                <td className="small">
                  {e.lastUsedAt ? day(e.lastUsedAt) : <span className="muted">never</span>}
                  {e.isUnused && (
                    <div>
                      <span className="tag warn">unused</span>
                    </div>
                  )}
                </td>
                <td className="num">
                  {e.sessions30} / {e.sessions90}
                </td>
                <td className="num">
                  {e.statements30} / {e.statements90}
                </td>
                <td>
                  {e.touchedTypes.map((t) => (
                    <span key={t} className="tag type">
                      {t}
                    </span>
                  ))}
                </td>
                <td className="small">{item.reviewer}</td>
                <td>
                  {item.decision ? (
                    <div className="small">
                      <span className={`tag ${item.decision === "revoke" ? "off" : "ok"}`}>
                        {item.decision}
                      </span>{" "}
                      by {item.decidedBy}
                      {item.comment && <div className="muted">“{item.comment}”</div>}
                    </div>
                  ) : item.canDecide ? (
                    <Decide campaignId={campaignId} item={item} />
                  ) : (
                    <span className="muted small">
                      {item.isMine ? "your own access: another reviewer decides" : "waiting"}
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
