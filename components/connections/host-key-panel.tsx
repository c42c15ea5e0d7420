"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { connectionsApi } from "@/lib/api";

/**
 * The SSH host key pinned on a connection: its fingerprint and when it was pinned, a reset (the next session
 * or test pins again), and, when a test met a different key, trusting that key after the admin compares it.
 */
export function HostKeyPanel({
  name,
  hostKey,
  pinnedAt,
  offered,
}: {
  name: string;
  hostKey: string | null;
  pinnedAt: string | null;
  /** A different key the last test was offered, to confirm. */
  offered: string | undefined;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function change(method: "POST" | "DELETE", done: string) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (method === "POST") await connectionsApi.trustHostKey(name, offered ?? "");
      else await connectionsApi.forgetHostKey(name);
      setNotice(done);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function reset() {
    if (
      window.confirm(
        `Forget the pinned host key of ${name}? The next session or test trusts whatever key the server offers then.`,
      )
    )
      void change("DELETE", "Host key reset. The next session or test pins the key it is offered.");
  }

  function trust() {
    if (
      offered &&
      window.confirm(
        `Trust the new host key ${offered} for ${name}? Compare it with the server's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) first.`,
      )
    )
      void change("POST", `New host key ${offered} trusted.`);
  }

  return (
    <fieldset aria-label="Host key">
      <legend>SSH host key</legend>
      {hostKey ? (
        <p className="small" style={{ margin: 0 }}>
          Pinned <code data-testid="host-key">{hostKey}</code>
          {pinnedAt && <span className="muted"> since {new Date(pinnedAt).toLocaleString()}</span>}
        </p>
      ) : (
        <p className="small muted" style={{ margin: 0 }}>
          Not pinned yet: the next session or successful test pins the key the server offers.
        </p>
      )}
      {offered && offered !== hostKey && (
        <p className="alert error small" role="alert">
          The server now offers a different key: <code data-testid="offered-host-key">{offered}</code>.
          Sessions are refused until you trust it, if the server was rebuilt on purpose.
        </p>
      )}
      <div className="btn-row" style={{ marginTop: "0.5rem" }}>
        {offered && offered !== hostKey && (
          <button className="btn danger small" type="button" onClick={trust} disabled={busy}>
            Trust new key
          </button>
        )}
        {hostKey && (
          <button className="btn small" type="button" onClick={reset} disabled={busy}>
            Reset host key
          </button>
        )}
      </div>
      {error && (
        <p className="alert error small" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="alert ok small" role="status">
          {notice}
        </p>
      )}
    </fieldset>
  );
}
