"use client";

import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { grantsApi } from "@/lib/api";

export interface RevocationRow {
  id: string;
  principal: string;
  connection: string;
  campaign: string;
  by: string;
  at: string;
  comment: string;
}

/** Access that reviews took back; an admin may give a group path back (grants that ended stay ended). */
export function RevocationTable({
  revocations,
  canLift,
}: {
  revocations: RevocationRow[];
  canLift: boolean;
}) {
  const { error, notice, busy, run } = useApiAction();
  return (
    <>
      <Alerts error={error} notice={notice} />
      <table className="data" aria-label="Revoked access">
        <thead>
          <tr>
            <th>Who</th>
            <th>Connection</th>
            <th>Revoked in</th>
            <th>By, when, why</th>
            {canLift && <th />}
          </tr>
        </thead>
        <tbody>
          {revocations.map((r) => (
            <tr key={r.id}>
              <td>{r.principal}</td>
              <td>{r.connection}</td>
              <td>{r.campaign}</td>
              <td className="small">
                {r.by}, {r.at.slice(0, 10)}
                {r.comment && <div className="muted">“{r.comment}”</div>}
              </td>
              {canLift && (
                <td>
                  <button
                    className="btn small"
                    type="button"
                    disabled={busy}
                    onClick={() => {
                      if (
                        window.confirm(
                          `Give ${r.principal} back the access to ${r.connection} that their groups allow? The review's decision stays in its report.`,
                        )
                      )
                        void run(
                          () => grantsApi.liftRevocation(r.id),
                          `Access of ${r.principal} to ${r.connection} given back.`,
                        );
                    }}
                  >
                    Give access back
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
