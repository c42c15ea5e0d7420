"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { useApiAction } from "@/components/ui/use-api-action";
import { classificationApi, type ScanState } from "@/lib/api";
import type { ClassificationOverview, ClassificationView } from "@/server/classification";

const percent = (n: number) => `${Math.round(n * 100)}%`;

function counts(values: number, byType: Record<string, number>, what: string): string | null {
  const entries = Object.entries(byType).sort((a, b) => b[1] - a[1]);
  if (values === 0 && entries.length === 0) return null;
  return `${entries.map(([type, n]) => `${type} ${n}`).join(", ") || "nothing"} of ${values} ${what}`;
}

function StateTag({ row }: { row: ClassificationView }) {
  if (row.state === "confirmed") return <span className="tag ok">confirmed</span>;
  if (row.state === "rejected") return <span className="tag off">rejected</span>;
  if (row.state === "proposed")
    return (
      <span className={`tag ${row.isApplied ? "ok" : "secret"}`}>
        {row.isApplied ? "proposed, applied" : "proposed"}
      </span>
    );
  return <span className="tag">detected</span>;
}

/** The scan's state in words, with a progress bar while it runs. */
function ScanStatus({ scan }: { scan: ScanState }) {
  if (scan.state === "idle") return <p className="muted small">Not scanned yet.</p>;
  if (scan.state === "running") {
    return (
      <div role="status" aria-live="polite">
        <p className="small">
          Scanning: {scan.tablesDone} of {scan.tablesTotal || "?"} tables sampled
          {scan.tablesSkipped > 0 && `, ${scan.tablesSkipped} skipped`}.
        </p>
        <progress
          max={Math.max(scan.tablesTotal, 1)}
          value={scan.tablesDone}
          aria-label="Scan progress"
          style={{ width: "100%" }}
        />
      </div>
    );
  }
  return (
    <p className="small" role="status">
      {scan.state === "failed" ? "The last scan failed" : "Last scan"}
      {scan.finishedAt && ` finished ${new Date(scan.finishedAt).toLocaleString()}`}
      {scan.by && ` (${scan.by})`}: {scan.tablesDone} of {scan.tablesTotal} tables sampled.
      {scan.error && <span className="muted"> {scan.error}</span>}
    </p>
  );
}

/** Discovered columns of one connection: scan now (with progress), the apply setting, and a decision per row. */
export function ClassificationAdmin({
  connection,
  initial,
  detectorTypes,
}: {
  connection: string;
  initial: Pick<ClassificationOverview, "applyProposed" | "scan" | "classifications">;
  detectorTypes: string[];
}) {
  const router = useRouter();
  const { error, notice, busy, run } = useApiAction();
  const [scan, setScan] = useState<ScanState>(initial.scan);
  // Shown as asked at once; put back when the change is refused.
  const [applyProposed, setApplyProposed] = useState(initial.applyProposed);

  useEffect(() => setScan(initial.scan), [initial.scan]);
  useEffect(() => setApplyProposed(initial.applyProposed), [initial.applyProposed]);

  const changeApplyProposed = async (next: boolean) => {
    setApplyProposed(next);
    const isDone = await run(
      () => classificationApi.setApplyProposed(connection, next),
      next
        ? "Proposed classifications now mask their columns, as if confirmed."
        : "Only confirmed classifications mask their columns.",
    );
    if (!isDone) setApplyProposed(!next);
  };

  // While a scan runs, its progress is read every second; the page's data is refreshed when it ends.
  useEffect(() => {
    if (scan.state !== "running") return;
    const timer = setInterval(async () => {
      const next = await classificationApi.overview(connection).catch(() => null);
      if (!next) return;
      setScan(next.scan);
      if (next.scan.state !== "running") router.refresh();
    }, 1000);
    return () => clearInterval(timer);
  }, [scan.state, connection, router]);

  const scanNow = () =>
    run(async () => {
      const started = await classificationApi.scan(connection);
      setScan(started.scan);
    });

  const decide = (row: ClassificationView, action: "confirm" | "reject" | "reopen", type?: string) =>
    run(
      () => classificationApi.decide(connection, row.id, { action, ...(type && { type }) }),
      action === "confirm"
        ? `${row.pattern} is masked as ${type ?? row.detectedType} from the next request on.`
        : action === "reject"
          ? `${row.pattern} is left to the detectors.`
          : `${row.pattern} is undecided again.`,
    );

  const rows = initial.classifications;
  return (
    <>
      <Alerts error={error} notice={notice} />
      <div className="panel">
        <div className="btn-row">
          <button type="button" className="btn" onClick={scanNow} disabled={busy || scan.state === "running"}>
            {scan.state === "running" ? "Scanning…" : "Scan now"}
          </button>
          <label className="small">
            <input
              type="checkbox"
              checked={applyProposed}
              disabled={busy}
              onChange={(e) => changeApplyProposed(e.target.checked)}
            />{" "}
            Apply proposed classifications at once
          </label>
        </div>
        <ScanStatus scan={scan} />
      </div>
      {rows.length === 0 ? (
        <div className="panel empty">
          <strong>No sensitive columns found yet</strong>
          Press “Scan now” to sample this connection’s tables, or run queries: columns whose results get
          masked show up here too.
        </div>
      ) : (
        <table className="data" aria-label="Discovered columns">
          <thead>
            <tr>
              <th>Column</th>
              <th>Found</th>
              <th>Confidence</th>
              <th>State</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <ClassificationRow
                key={row.id}
                row={row}
                busy={busy}
                detectorTypes={detectorTypes}
                onDecide={(action, type) => decide(row, action, type)}
              />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function ClassificationRow({
  row,
  busy,
  detectorTypes,
  onDecide,
}: {
  row: ClassificationView;
  busy: boolean;
  detectorTypes: string[];
  onDecide: (action: "confirm" | "reject" | "reopen", type?: string) => void;
}) {
  const [type, setType] = useState(row.type ?? row.detectedType ?? "");
  const sampled = counts(row.sampledValues, row.sampledCounts, "sampled values");
  const learned = counts(row.learnedValues, row.learnedCounts, "result cells");
  const listId = `types-${row.id}`;
  return (
    <tr aria-label={row.pattern}>
      <td>
        <code>{row.pattern}</code>
      </td>
      <td className="small">
        {row.detectedType && <span className="tag secret">{row.detectedType}</span>}
        {sampled && <div className="muted">{sampled}</div>}
        {learned && <div className="muted">{learned}</div>}
      </td>
      <td>{percent(row.confidence)}</td>
      <td>
        <StateTag row={row} />
        {row.state === "confirmed" && row.type && <div className="small">masked as {row.type}</div>}
        {row.decidedBy && <div className="small muted">by {row.decidedBy}</div>}
      </td>
      <td>
        <div className="btn-row">
          <input
            className="small"
            aria-label={`Type for ${row.pattern}`}
            list={listId}
            value={type}
            size={12}
            onChange={(e) => setType(e.target.value.trim())}
          />
          <datalist id={listId}>
            {detectorTypes.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          <button
            type="button"
            className="btn small"
            disabled={busy || !type}
            onClick={() => onDecide("confirm", type)}
          >
            {row.state === "confirmed" ? "Change type" : "Confirm"}
          </button>
          {row.state !== "rejected" && (
            <button
              type="button"
              className="btn small danger"
              disabled={busy}
              onClick={() => onDecide("reject")}
            >
              Reject
            </button>
          )}
          {(row.state === "confirmed" || row.state === "rejected") && (
            <button type="button" className="btn small" disabled={busy} onClick={() => onDecide("reopen")}>
              Reopen
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
