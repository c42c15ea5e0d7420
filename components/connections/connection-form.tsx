"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { type Connection, type ConnectionTestResult, connectionsApi } from "@/lib/api";
import { HostKeyPanel } from "./host-key-panel";

/** The connection being edited: its reply shape without what the form does not show. */
export type ConnectionFormValue = Omit<Connection, "id" | "isDemo" | "createdAt" | "updatedAt">;

type TestResult = ConnectionTestResult;

/** Minutes typed in the form as seconds for the API; blank means the gateway's default (null). */
function minutesAsSeconds(value: FormDataEntryValue | null): number | null {
  const text = String(value ?? "").trim();
  return text === "" ? null : Math.round(Number(text) * 60);
}

const asMinutes = (seconds: number | null | undefined) => (seconds ? String(seconds / 60) : "");

export function ConnectionForm({
  existing,
  allGroups,
}: {
  existing?: ConnectionFormValue;
  allGroups: string[];
}) {
  const router = useRouter();
  const [kind, setKind] = useState<"postgres" | "ssh">(existing?.kind ?? "postgres");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [test, setTest] = useState<TestResult | null>(null);
  const [testing, setTesting] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const text = (key: string) => String(form.get(key) ?? "").trim();
    const body: Record<string, unknown> = {
      name: text("name"),
      description: text("description"),
      host: text("host"),
      port: text("port") ? Number(text("port")) : undefined,
      username: text("username"),
      groups: form.getAll("groups").map(String),
      approvals: {
        approverGroups: form.getAll("approverGroups").map(String),
        approvalsRequired: Number(form.get("approvalsRequired") ?? 1),
      },
    };
    if (kind === "postgres") body.database = text("database");
    else
      body.terminal = {
        idleTimeoutSeconds: minutesAsSeconds(form.get("idleTimeoutMinutes")),
        maxDurationSeconds: minutesAsSeconds(form.get("maxDurationMinutes")),
      };
    // Blank secret fields keep what is stored; a new value replaces it.
    for (const field of ["password", "privateKey", "passphrase"]) {
      const value = String(form.get(field) ?? "");
      if (value) body[field] = value;
      else if (form.get(`clear-${field}`) === "on") body[field] = "";
    }
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (existing) {
        const { connection } = await connectionsApi.update(existing.name, body);
        setNotice("Saved.");
        for (const field of ["password", "privateKey", "passphrase"]) {
          const input = formEl.elements.namedItem(field);
          if (input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement) input.value = "";
        }
        if (connection.name !== existing.name)
          router.replace(`/connections/${encodeURIComponent(connection.name)}`);
        router.refresh();
      } else {
        const { connection } = await connectionsApi.create({ ...body, kind });
        router.push(`/connections/${encodeURIComponent(connection.name)}?created=1`);
        router.refresh();
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function runTest() {
    if (!existing) return;
    setTesting(true);
    setTest(null);
    try {
      const { result } = await connectionsApi.test(existing.name);
      setTest(result);
      router.refresh();
    } catch (err) {
      setTest({ ok: false, message: (err as Error).message });
    } finally {
      setTesting(false);
    }
  }

  async function remove() {
    if (
      !existing ||
      !window.confirm(`Delete the connection ${existing.name}? People lose access to it at once.`)
    )
      return;
    try {
      await connectionsApi.remove(existing.name);
      router.push("/connections");
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const secretHint = (isSet: boolean | undefined) =>
    existing
      ? isSet
        ? "Set. Leave blank to keep it, or type a new one to replace it."
        : "Not set."
      : undefined;

  return (
    <form className="stack" onSubmit={onSubmit} aria-label={existing ? "Edit connection" : "New connection"}>
      <Alerts error={error} notice={notice} />
      <div className="grid-2">
        <div className="field">
          <label htmlFor="kind">Type</label>
          <select
            id="kind"
            name="kind"
            value={kind}
            onChange={(e) => setKind(e.target.value as "postgres" | "ssh")}
            disabled={Boolean(existing)}
          >
            <option value="postgres">PostgreSQL</option>
            <option value="ssh">SSH server</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="name">Name</label>
          <input
            id="name"
            name="name"
            type="text"
            required
            defaultValue={existing?.name}
            placeholder="billing-prod"
            pattern="[a-z0-9][a-z0-9_\-]*"
          />
          <span className="hint">Lower-case letters, digits, - and _.</span>
        </div>
      </div>
      <div className="field">
        <label htmlFor="description">Description</label>
        <input id="description" name="description" type="text" defaultValue={existing?.description} />
      </div>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="host">Host</label>
          <input
            id="host"
            name="host"
            type="text"
            required
            defaultValue={existing?.host}
            placeholder="db.internal"
          />
        </div>
        <div className="field">
          <label htmlFor="port">Port</label>
          <input
            id="port"
            name="port"
            type="number"
            min={1}
            max={65535}
            defaultValue={existing?.port}
            placeholder={kind === "postgres" ? "5432" : "22"}
          />
        </div>
      </div>
      <div className="grid-2">
        {kind === "postgres" && (
          <div className="field">
            <label htmlFor="database">Database</label>
            <input
              id="database"
              name="database"
              type="text"
              required
              defaultValue={existing?.database ?? ""}
              placeholder="postgres"
            />
          </div>
        )}
        <div className="field">
          <label htmlFor="username">Username</label>
          <input
            id="username"
            name="username"
            type="text"
            required
            defaultValue={existing?.username}
            autoComplete="off"
          />
        </div>
      </div>
      <fieldset>
        <legend>Credentials (encrypted at rest, never shown again)</legend>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="new-password"
            placeholder={existing?.credentials.password ? "•••••• (set)" : ""}
          />
          {existing && <span className="hint">{secretHint(existing.credentials.password)}</span>}
        </div>
        {kind === "ssh" && (
          <>
            <div className="field">
              <label htmlFor="privateKey">Private key</label>
              <textarea
                id="privateKey"
                name="privateKey"
                placeholder={
                  existing?.credentials.privateKey ? "(set)" : "-----BEGIN OPENSSH PRIVATE KEY-----"
                }
              />
              {existing && <span className="hint">{secretHint(existing.credentials.privateKey)}</span>}
            </div>
            <div className="field">
              <label htmlFor="passphrase">Key passphrase</label>
              <input id="passphrase" name="passphrase" type="password" autoComplete="new-password" />
            </div>
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Who may use it</legend>
        {allGroups.length === 0 ? (
          <p className="muted small">
            No groups yet. Create a group first; until then only admins can use this connection.
          </p>
        ) : (
          <div className="checks">
            {allGroups.map((g) => (
              <label key={g}>
                <input
                  type="checkbox"
                  name="groups"
                  value={g}
                  defaultChecked={existing?.groups.includes(g)}
                />{" "}
                {g}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>Approvals for held requests</legend>
        <div className="field">
          <span className="label">Who may approve (admins always may)</span>
          <div className="checks">
            {allGroups.length === 0 && <span className="muted small">No groups yet: admins approve.</span>}
            {allGroups.map((g) => (
              <label key={g}>
                <input
                  type="checkbox"
                  name="approverGroups"
                  value={g}
                  aria-label={`Approver group ${g}`}
                  defaultChecked={existing?.approvals.approverGroups.includes(g)}
                />{" "}
                {g}
              </label>
            ))}
          </div>
        </div>
        <div className="field" style={{ maxWidth: 260 }}>
          <label htmlFor="approvalsRequired">Approvals needed</label>
          <select
            id="approvalsRequired"
            name="approvalsRequired"
            defaultValue={String(existing?.approvals.approvalsRequired ?? 1)}
          >
            <option value="1">1 approver</option>
            <option value="2">2 approvers</option>
            <option value="3">3 approvers</option>
          </select>
        </div>
      </fieldset>
      {kind === "ssh" && (
        <fieldset>
          <legend>Terminal time limits</legend>
          <div className="grid-2">
            <div className="field">
              <label htmlFor="idleTimeoutMinutes">Idle timeout (minutes)</label>
              <input
                id="idleTimeoutMinutes"
                name="idleTimeoutMinutes"
                type="number"
                min={1}
                step="any"
                defaultValue={asMinutes(existing?.terminal.idleTimeoutSeconds)}
                placeholder="gateway default"
              />
              <span className="hint">A session with no keystroke for this long ends.</span>
            </div>
            <div className="field">
              <label htmlFor="maxDurationMinutes">Maximum duration (minutes)</label>
              <input
                id="maxDurationMinutes"
                name="maxDurationMinutes"
                type="number"
                min={1}
                step="any"
                defaultValue={asMinutes(existing?.terminal.maxDurationSeconds)}
                placeholder="gateway default"
              />
              <span className="hint">A session ends this long after it started.</span>
            </div>
          </div>
        </fieldset>
      )}
      {existing?.kind === "ssh" && (
        <HostKeyPanel
          name={existing.name}
          hostKey={existing.hostKey}
          pinnedAt={existing.hostKeyPinnedAt}
          offered={test?.stage === "host_key" ? test.hostKey : undefined}
        />
      )}
      <div className="btn-row">
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Saving…" : existing ? "Save changes" : "Create connection"}
        </button>
        {existing && (
          <>
            <button className="btn" type="button" onClick={runTest} disabled={testing}>
              {testing ? "Testing…" : "Test connection"}
            </button>
            <button className="btn danger" type="button" onClick={remove}>
              Delete
            </button>
          </>
        )}
      </div>
      {test && (
        <p className={`alert ${test.ok ? "ok" : "error"}`} role="status" data-testid="test-result">
          {test.message}
        </p>
      )}
    </form>
  );
}
