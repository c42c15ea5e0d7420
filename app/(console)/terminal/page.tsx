// The terminal page: picks the SSH connection from ?connection= (or the first one the caller may use) and
// opens a browser terminal to it. Lists only connections the principal may use; the shell, inspection,
// masking and recording happen behind the gateway's /ws/terminal endpoint.
import "@xterm/xterm/css/xterm.css";
import "@/components/terminal/terminal.css";
import Link from "next/link";
import { type TerminalConnection, TerminalPicker } from "@/components/terminal/terminal-picker";
import { TerminalView } from "@/components/terminal/terminal-view";
import { requirePrincipal } from "@/server/auth";
import { listConnections } from "@/server/connections";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "Terminal" };

export default async function TerminalPage({
  searchParams,
}: {
  searchParams: Promise<{ connection?: string | string[] }>;
}) {
  const principal = await requirePrincipal("connections:use");
  const { connection: requested } = await searchParams;
  const requestedName = Array.isArray(requested) ? requested[0] : requested;
  const connections: TerminalConnection[] = (await listConnections(principal))
    .filter((c) => c.kind === "ssh")
    .map((c) => ({ name: c.name, description: c.description, address: `${c.username}@${c.host}:${c.port}` }));
  const selected =
    requestedName === undefined
      ? (connections[0]?.name ?? null)
      : (connections.find((c) => c.name === requestedName)?.name ?? null);
  const canManage = hasPermission(principal, "connections:manage");

  return (
    <div className="term-page">
      <div className="term-head">
        <div>
          <h1>Terminal</h1>
          <p className="lead">
            A shell through the gateway: commands are checked when you press Enter, sensitive output is
            masked, and the session is recorded.
          </p>
        </div>
        {connections.length > 0 && <TerminalPicker connections={connections} selected={selected} />}
      </div>
      {connections.length === 0 ? (
        <div className="panel empty">
          <strong>No SSH connection you can use</strong>
          {canManage ? (
            <>
              Add an SSH server under <Link href="/connections/new">New connection</Link>, then open the
              terminal again.
            </>
          ) : (
            "You are not in a group that may use an SSH connection. Ask an admin to add you to one."
          )}
        </div>
      ) : selected === null ? (
        <div className="panel empty" role="alert">
          <strong>No connection named “{requestedName}” that you can use</strong>
          Pick one of your SSH connections with the “Connection” menu above.
        </div>
      ) : (
        <TerminalView key={selected} connection={selected} />
      )}
    </div>
  );
}
