// Whether the audit log's stored events still match their hash chain. A server component; the page streams it
// in (Suspense) so a long log does not hold up the list.
import { verifyAuditLog } from "@/server/integrity";

export async function AuditChainStatus() {
  const result = await verifyAuditLog();
  if (!result.ok) {
    return (
      <span className="tag off" data-testid="audit-chain">
        ✗ Audit log integrity check failed at event {result.firstBadSeq}: {result.reason}
      </span>
    );
  }
  return (
    <span className="tag ok" data-testid="audit-chain" title={`chain head ${result.head.hash || "(empty)"}`}>
      ✓ Audit log verified ({result.events} event{result.events === 1 ? "" : "s"}
      {result.unchained > 0 ? `; ${result.unchained} earlier ones predate the chain` : ""})
    </span>
  );
}
