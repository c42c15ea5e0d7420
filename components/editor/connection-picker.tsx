"use client";

// Chooses the connection the editor runs against; the choice lives in the URL (?connection=name), so a link
// or a reload keeps it.
import { useRouter } from "next/navigation";
import { useTransition } from "react";
import type { EditorConnection } from "./types";

export function ConnectionPicker({
  connections,
  selected,
}: {
  connections: EditorConnection[];
  selected: string | null;
}) {
  const router = useRouter();
  const [isPending, startTransition] = useTransition();
  const current = connections.find((c) => c.name === selected);
  return (
    <div className="connection-picker">
      <label htmlFor="editor-connection">Connection</label>
      <select
        id="editor-connection"
        value={selected ?? ""}
        disabled={isPending}
        onChange={(event) => {
          const name = event.target.value;
          startTransition(() => router.push(`/editor?connection=${encodeURIComponent(name)}`));
        }}
      >
        {selected === null && <option value="">Choose a connection…</option>}
        {connections.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
            {c.isDemo ? " (demo)" : ""}
          </option>
        ))}
      </select>
      {current && (
        <span className="muted small mono connection-address" title={current.description || undefined}>
          {current.address}
        </span>
      )}
    </div>
  );
}
