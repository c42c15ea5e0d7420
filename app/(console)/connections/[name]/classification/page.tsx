import Link from "next/link";
import { notFound } from "next/navigation";
import { ClassificationAdmin } from "@/components/classification/classification-admin";
import { requirePrincipal } from "@/server/auth";
import { classificationTarget, getClassificationPage } from "@/server/classification-page";
import { GatewayError } from "@/server/errors";
import { DETECTOR_INFO } from "@/server/masking";

export const metadata = { title: "Data classification" };

export default async function DataClassificationPage({ params }: { params: Promise<{ name: string }> }) {
  const principal = await requirePrincipal("policies:manage");
  const { name } = await params;
  const connection = await classificationTarget(principal, name).catch((err) => {
    if (err instanceof GatewayError && (err.status === 404 || err.status === 400)) notFound();
    throw err;
  });
  const data = await getClassificationPage(connection);
  const { sampleRows, maxTables, statementTimeoutMs, intervalMinutes } = data.limits;
  return (
    <>
      <p className="small">
        <Link href={`/connections/${encodeURIComponent(connection.name)}`}>← {connection.name}</Link>
      </p>
      <h1>Data classification</h1>
      <p className="lead">
        Columns of {connection.name} where the detectors found sensitive values, by sampling the tables and by
        learning from results as they are masked. Only counts are kept, never a value. Confirm a column and it
        is masked whole as its type from the next request on, whatever its values look like (and so are values
        derived from it); reject it and only the detectors judge its values.
      </p>
      <p className="muted small">
        A scan reads at most {sampleRows} rows of each of at most {maxTables} tables, each under a{" "}
        {statementTimeoutMs / 1000} s timeout, in a read-only transaction.{" "}
        {intervalMinutes
          ? `Every connection is also scanned in the background every ${intervalMinutes >= 60 ? `${Math.round(intervalMinutes / 60)} h` : `${intervalMinutes} min`}.`
          : "Background scans are off."}
      </p>
      <ClassificationAdmin
        connection={connection.name}
        initial={{
          applyProposed: data.applyProposed,
          scan: data.scan,
          classifications: data.classifications,
        }}
        detectorTypes={DETECTOR_INFO.map((d) => d.type)}
      />
      <h2>Hand-written column rules</h2>
      <p className="muted small">
        {data.isDefaultMasking ? "The shipped defaults" : "This connection's rules"}, set on the{" "}
        <Link href="/policies#masking">Policies</Link> page. A pattern matches{" "}
        <code>schema.table.column</code> from the right; a confirmed classification acts as one more, exact,
        rule.
      </p>
      {data.columnRules.length === 0 ? (
        <div className="panel empty">
          <strong>No hand-written column rules</strong>
          Only the detectors and confirmed classifications mask values on this connection.
        </div>
      ) : (
        <table className="data" aria-label="Hand-written column rules">
          <thead>
            <tr>
              <th>Pattern</th>
              <th>Masked as</th>
            </tr>
          </thead>
          <tbody>
            {data.columnRules.map((r) => (
              <tr key={`${r.pattern}:${r.type}`}>
                <td>
                  <code>{r.pattern}</code>
                </td>
                <td>
                  <span className="tag secret">{r.type}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
