"use client";
// The "Request access" form: pick a connection you cannot use yet, a duration and a reason.

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { grantsApi } from "@/lib/api";

const DURATIONS = [
  { minutes: 15, label: "15 minutes" },
  { minutes: 30, label: "30 minutes" },
  { minutes: 60, label: "1 hour" },
  { minutes: 240, label: "4 hours" },
  { minutes: 480, label: "8 hours" },
  { minutes: 1440, label: "24 hours" },
];

export function RequestAccessForm({ connections }: { connections: string[] }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await grantsApi.request({
        connection: String(form.get("connection")),
        durationMinutes: Number(form.get("duration")),
        reason: String(form.get("reason") ?? ""),
      });
      setNotice(`Requested access to ${String(form.get("connection"))}. An admin decides it.`);
      formEl.reset();
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (connections.length === 0) {
    return (
      <div className="panel empty">
        <strong>You can already use every connection</strong>
        Open the SQL editor or a terminal to work with them.
      </div>
    );
  }

  return (
    <form className="panel stack" onSubmit={onSubmit} aria-label="Request access">
      <Alerts error={error} notice={notice} />
      <div className="grid-2">
        <div className="field">
          <label htmlFor="grant-connection">Connection</label>
          <select id="grant-connection" name="connection" required>
            {connections.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="grant-duration">For</label>
          <select id="grant-duration" name="duration" defaultValue="60">
            {DURATIONS.map((d) => (
              <option key={d.minutes} value={d.minutes}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="grant-reason">Reason</label>
        <input
          id="grant-reason"
          name="reason"
          type="text"
          maxLength={1000}
          placeholder="What you need it for (ticket, incident…)"
        />
      </div>
      <div>
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Requesting…" : "Request access"}
        </button>
      </div>
    </form>
  );
}
