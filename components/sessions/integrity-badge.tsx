// The session's integrity, as the replay page shows it: a badge saying whether the stored events still match
// their hash chain ("Verified (n events)" or "Integrity check failed at event k", with why), and a download of
// the evidence bundle. A server component: verification runs on the server against the store.
import "./integrity.css";
import { sessionsApi } from "@/lib/api";
import { verifySession } from "@/server/integrity";

export async function IntegrityBadge({ sessionId }: { sessionId: string }) {
  const result = await verifySession(sessionId);
  if (!result) return null;
  const isLegacy = result.ok && result.events === 0 && result.unchained > 0;
  return (
    <div className="integrity" data-testid="integrity">
      {isLegacy ? (
        <span className="tag">Not chained: recorded before integrity checks existed</span>
      ) : result.ok ? (
        <span className="tag ok" title={`chain head ${result.head.hash || "(empty)"}`}>
          ✓ Verified ({result.events} event{result.events === 1 ? "" : "s"})
        </span>
      ) : (
        <>
          <span className="tag off">✗ Integrity check failed at event {result.firstBadSeq}</span>
          <span className="small integrity-reason">{result.reason}</span>
        </>
      )}
      <a className="btn" href={sessionsApi.evidenceHref(sessionId)} download>
        Download evidence
      </a>
    </div>
  );
}
