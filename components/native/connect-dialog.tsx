"use client";
// The Connect dialog: a person gets a short-lived database credential for one connection (valid for a time
// they choose, up to the console session's maximum) and a ready psql command and connection URI for the
// gateway's PostgreSQL listener. The password is shown once, here; the console never shows it again.
// Not responsible for anything the credential allows (the listener and the pipeline decide that).

import { useRef, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { type DatabaseCredentialIssued, databaseCredentialsApi } from "@/lib/api";
import "./native.css";

type Issued = DatabaseCredentialIssued;

const CHOICES = [
  { seconds: 15 * 60, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 4 * 3600, label: "4 hours" },
  { seconds: 8 * 3600, label: "8 hours" },
  { seconds: 24 * 3600, label: "24 hours" },
];

function CopyField({ label, value, id }: { label: string; value: string; id: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={value} onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
        <button
          type="button"
          className="btn small"
          aria-label={`Copy ${label.toLowerCase()}`}
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

export function ConnectDialog({
  connection,
  maxSeconds,
  listenerOn,
}: {
  connection: string;
  /** the console session's maximum (SESSION_MAX_AGE) */
  maxSeconds: number;
  listenerOn: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const choices = CHOICES.filter((c) => c.seconds <= maxSeconds);
  if (!choices.some((c) => c.seconds === maxSeconds)) {
    choices.push({ seconds: maxSeconds, label: `${Math.round(maxSeconds / 60)} minutes (the maximum)` });
  }
  const [validFor, setValidFor] = useState(choices.find((c) => c.seconds === 3600)?.seconds ?? maxSeconds);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async () => {
    setError(null);
    setBusy(true);
    try {
      setIssued(await databaseCredentialsApi.issue({ connection, validForSeconds: validFor }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setIssued(null); // shown once: closing forgets it
    setError(null);
    dialog.current?.close();
  };

  return (
    <>
      <button type="button" className="btn" onClick={() => dialog.current?.showModal()}>
        Connect with psql…
      </button>
      <dialog
        ref={dialog}
        className="connect-dialog panel"
        aria-labelledby="connect-title"
        onClose={() => setIssued(null)}
      >
        <h2 id="connect-title">Connect to {connection} with psql or a driver</h2>
        {!listenerOn ? (
          <p className="alert info">
            The gateway&apos;s PostgreSQL listener is off. An admin enables it with{" "}
            <code>PG_LISTEN_PORT</code>.
          </p>
        ) : issued === null ? (
          <>
            <p className="small">
              You get a password of your own for <strong>{connection}</strong>, for native clients (psql,
              DBeaver, drivers). Everything you run through it is decided, masked and recorded like in the
              editor. It stops working when it expires, when you revoke it, or when you lose access.
            </p>
            <div className="field">
              <label htmlFor="connect-valid-for">Valid for</label>
              <select
                id="connect-valid-for"
                value={validFor}
                onChange={(e) => setValidFor(Number(e.target.value))}
              >
                {choices.map((c) => (
                  <option key={c.seconds} value={c.seconds}>
                    {c.label}
                  </option>
                ))}
              </select>
            </div>
            <Alerts error={error} />
            <div className="btn-row">
              <button type="button" className="btn primary" disabled={busy} onClick={() => void create()}>
                {busy ? "Creating…" : "Create credential"}
              </button>
              <button type="button" className="btn" onClick={close}>
                Cancel
              </button>
            </div>
          </>
        ) : (
          <>
            <p className="alert warn" role="status">
              Copy the password now: it is shown only once. It works until{" "}
              {new Date(issued.expiresAt).toLocaleString()}.
            </p>
            <CopyField id="connect-password" label="Password" value={issued.password} />
            <CopyField id="connect-psql" label="psql command" value={issued.psql} />
            <CopyField id="connect-uri" label="Connection URI" value={issued.uri} />
            <p className="small muted">
              psql asks for the password (or reads <code>PGPASSWORD</code>); it is not in the command, so it
              stays out of your shell history. TLS is required (<code>sslmode=require</code>); for{" "}
              <code>verify-full</code> ask an admin for the listener&apos;s certificate. Revoke it under{" "}
              <a href="/account">Your account</a>.
            </p>
            <div className="btn-row">
              <button type="button" className="btn primary" onClick={close}>
                Done
              </button>
            </div>
          </>
        )}
      </dialog>
    </>
  );
}
