import Link from "next/link";
import { ConnectionForm } from "@/components/connections/connection-form";
import { listGroups, requirePrincipal } from "@/server/auth";

export const metadata = { title: "New connection" };

export default async function NewConnectionPage() {
  await requirePrincipal("connections:manage");
  const groups = await listGroups();
  return (
    <>
      <p className="small">
        <Link href="/connections">← Connections</Link>
      </p>
      <h1>New connection</h1>
      <p className="lead">
        The gateway connects with these credentials on behalf of the people and services you allow.
      </p>
      <div className="panel">
        <ConnectionForm allGroups={groups.map((g) => g.name)} />
      </div>
    </>
  );
}
