"use client";

// Chooses the SSH connection the terminal opens; the choice lives in the URL (?connection=name).
import { useRouter } from "next/navigation";
import { useTransition } from "react";

export interface TerminalConnection {
  name: string;
  description: string;
  address: string;
}

export function TerminalPicker({
  connections,
  selected,
}: {
  connections: TerminalConnection[];
  selected: string | null;
}) {
  const router = useRouter();
  const [isPending, startTransition] = useTransition();
  const current = connections.find((c) => c.name === selected);
  return (
    <div className="terminal-picker">
      <label htmlFor="terminal-connection">Connection</label>
      <select
        id="terminal-connection"
        value={selected ?? ""}
        disabled={isPending}
        onChange={(event) => {
          const name = event.target.value;
          startTransition(() => router.push(`/terminal?connection=${encodeURIComponent(name)}`));
        }}
      >
        {selected === null && <option value="">Choose a connection…</option>}
        {connections.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
      {current && (
        <span className="muted small mono" title={current.description || undefined}>
          {current.address}
        </span>
      )}
    </div>
  );
}
