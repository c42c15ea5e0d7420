import { listAuditEvents } from "@/server/audit";
import { requirePrincipal } from "@/server/auth";

export const metadata = { title: "Audit log" };

export default async function AuditPage() {
  await requirePrincipal("audit:read");
  const events = await listAuditEvents(300);
  return (
    <>
      <h1>Audit log</h1>
      <p className="lead">Sign-ins and changes to users, groups, connections and tokens, newest first.</p>
      {events.length === 0 ? (
        <div className="panel empty">
          <strong>Nothing recorded yet</strong>Changes made in the console appear here.
        </div>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td className="small">{e.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="small">{e.actorLabel}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className="small">{e.target}</td>
                <td className="small mono muted">
                  {Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
