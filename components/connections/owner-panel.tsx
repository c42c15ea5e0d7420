"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { connectionsApi } from "@/lib/api";

/**
 * Who reviews access to a connection in access review campaigns that ask "each connection's owners": a group,
 * or nobody (admins review it).
 */
export function OwnerPanel({
  name,
  owner,
  groups,
}: {
  name: string;
  owner: string | null;
  groups: string[];
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const group = String(new FormData(event.currentTarget).get("owner") ?? "");
    setError(null);
    setNotice(null);
    try {
      await connectionsApi.setOwner(name, group || null);
      setNotice(group ? `Members of ${group} review access to ${name}.` : `Admins review access to ${name}.`);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <form className="btn-row" onSubmit={onSubmit} aria-label="Access review owners">
      <div className="field" style={{ minWidth: 260 }}>
        <label htmlFor="owner-group">Owners (review access to it)</label>
        <select id="owner-group" name="owner" defaultValue={owner ?? ""}>
          <option value="">nobody: admins review it</option>
          {groups.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </div>
      <button className="btn" type="submit" style={{ alignSelf: "flex-end" }}>
        Save owners
      </button>
      {notice && <p className="alert ok">{notice}</p>}
      <Alerts error={error} />
    </form>
  );
}
