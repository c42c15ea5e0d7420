import Link from "next/link";
import { requirePrincipal } from "@/server/auth";
import { listConnections } from "@/server/connections";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "Connections" };

export default async function ConnectionsPage() {
  const principal = await requirePrincipal("connections:use");
  const connections = await listConnections(principal);
  const canManage = hasPermission(principal, "connections:manage");
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Connections</h1>
          <p className="lead">
            Databases and servers you can reach through the gateway. Credentials stay on the gateway.
          </p>
        </div>
        {canManage && (
          <Link className="btn primary" href="/connections/new">
            New connection
          </Link>
        )}
      </div>
      {connections.length === 0 ? (
        <div className="panel empty">
          <strong>No connections yet</strong>
          {canManage
            ? "Add a PostgreSQL database or an SSH server with “New connection”."
            : "You are not in a group that may use a connection. Ask an admin to add you to one."}
        </div>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Address</th>
              <th>As user</th>
              <th>Groups</th>
              {canManage && <th>Credentials</th>}
            </tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.id}>
                <td>
                  {canManage ? (
                    <Link href={`/connections/${c.name}`}>{c.name}</Link>
                  ) : (
                    <strong>{c.name}</strong>
                  )}
                  {c.isDemo && (
                    <span className="tag ok" style={{ marginLeft: 6 }}>
                      demo
                    </span>
                  )}
                  {c.description && <div className="muted small">{c.description}</div>}
                </td>
                <td>{c.kind === "postgres" ? "PostgreSQL" : "SSH"}</td>
                <td className="mono">
                  {c.host}:{c.port}
                  {c.database ? `/${c.database}` : ""}
                </td>
                <td className="mono">{c.username}</td>
                <td>
                  {c.groups.length === 0 ? (
                    <span className="muted small">admins only</span>
                  ) : (
                    c.groups.map((g) => (
                      <span className="tag" key={g}>
                        {g}
                      </span>
                    ))
                  )}
                </td>
                {canManage && (
                  <td>
                    {c.credentials.password && <span className="tag secret">password set</span>}
                    {c.credentials.privateKey && <span className="tag secret">key set</span>}
                    {!c.credentials.password && !c.credentials.privateKey && (
                      <span className="tag off">none</span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
