"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { CheckboxList } from "@/components/ui/checkbox-list";
import { type CheckResult, connectionsApi, rulesApi } from "@/lib/api";

const CLASSES = ["read", "write", "unbounded-write", "ddl", "privilege", "dangerous", "unparseable"] as const;

export interface RuleRow {
  id: string;
  name: string;
  connectionName: string | null;
  groups: string[];
  classes: string[];
  tables: string[];
  functions: string[];
  /** masked columns whose conditions (WHERE, JOIN, GROUP BY, ORDER BY) this rule decides */
  columns?: string[];
  action: "allow" | "review" | "deny";
  message: string;
  approverGroups?: string[];
  approvalsRequired?: number | null;
}

const list = (value: FormDataEntryValue | null) =>
  String(value ?? "")
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter(Boolean);

function ActionTag({ action }: { action: string }) {
  const tone = action === "allow" ? "ok" : action === "deny" ? "off" : "secret";
  return <span className={`tag ${tone}`}>{action}</span>;
}

export function RuleForm({
  connections,
  groups,
  existing,
  onDone,
}: {
  connections: string[];
  groups: string[];
  existing?: RuleRow;
  onDone: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [action, setAction] = useState(existing?.action ?? "review");

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const connection = String(form.get("connection") ?? "");
    const approvals = String(form.get("approvalsRequired") ?? "");
    const body = {
      name: String(form.get("name") ?? ""),
      connection: connection === "*" ? null : connection,
      groups: form.getAll("groups").map(String),
      classes: form.getAll("classes").map(String),
      tables: list(form.get("tables")),
      functions: list(form.get("functions")),
      columns: list(form.get("columns")),
      action: String(form.get("action") ?? "review"),
      message: String(form.get("message") ?? ""),
      approverGroups: action === "review" ? form.getAll("approverGroups").map(String) : [],
      approvalsRequired: action === "review" && approvals ? Number(approvals) : null,
    };
    setBusy(true);
    setError(null);
    try {
      if (existing) await rulesApi.update(existing.id, body);
      else await rulesApi.create(body);
      onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack"
      onSubmit={onSubmit}
      aria-label={existing ? "Edit rule" : "New rule"}
      style={{ maxWidth: 720 }}
    >
      <Alerts error={error} />
      <div className="grid-2">
        <div className="field">
          <label htmlFor="rule-name">Rule name</label>
          <input
            id="rule-name"
            name="name"
            type="text"
            required
            defaultValue={existing?.name}
            placeholder="Analysts may update orders"
          />
        </div>
        <div className="field">
          <label htmlFor="rule-connection">Connection</label>
          <select id="rule-connection" name="connection" defaultValue={existing?.connectionName ?? "*"}>
            <option value="*">All connections</option>
            {connections.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      </div>
      <fieldset>
        <legend>Statement classes (none ticked: any class)</legend>
        <CheckboxList name="classes" options={CLASSES} checked={existing?.classes} />
      </fieldset>
      <fieldset>
        <legend>Caller groups (none ticked: everyone)</legend>
        <CheckboxList name="groups" options={groups} checked={existing?.groups} empty="No groups yet." />
      </fieldset>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="rule-tables">Tables (optional)</label>
          <input
            id="rule-tables"
            name="tables"
            type="text"
            defaultValue={existing?.tables.join(", ")}
            placeholder="orders, billing.*"
          />
        </div>
        <div className="field">
          <label htmlFor="rule-functions">Functions (optional)</label>
          <input
            id="rule-functions"
            name="functions"
            type="text"
            defaultValue={existing?.functions.join(", ")}
            placeholder="pg_sleep"
          />
        </div>
      </div>
      <div className="field">
        <label htmlFor="rule-columns">Conditions on masked columns (optional)</label>
        <input
          id="rule-columns"
          name="columns"
          type="text"
          defaultValue={existing?.columns?.join(", ")}
          placeholder="employees.salary, hr.*.*"
          aria-describedby="rule-columns-help"
        />
        <div id="rule-columns-help" className="muted small">
          A statement that filters, joins, groups or orders on a masked column can confirm a value it never
          shows, so it is held for review by default. With columns here, this rule decides those statements
          instead (and nothing else).
        </div>
      </div>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="rule-action">Action</label>
          <select
            id="rule-action"
            name="action"
            value={action}
            onChange={(e) => setAction(e.target.value as RuleRow["action"])}
          >
            <option value="allow">allow: run it</option>
            <option value="review">review: hold for an approver</option>
            <option value="deny">deny: refuse it</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="rule-message">Message shown to the caller</label>
          <input
            id="rule-message"
            name="message"
            type="text"
            defaultValue={existing?.message}
            placeholder="Ask #data-platform first"
          />
        </div>
      </div>
      {action === "review" && (
        <fieldset>
          <legend>Who approves (none ticked: the connection's approvers)</legend>
          <CheckboxList
            name="approverGroups"
            options={groups}
            checked={existing?.approverGroups}
            empty="No groups yet."
          />
          <div className="field" style={{ maxWidth: 260, marginTop: "0.5rem" }}>
            <label htmlFor="rule-approvals">Approvals needed</label>
            <select
              id="rule-approvals"
              name="approvalsRequired"
              defaultValue={existing?.approvalsRequired ? String(existing.approvalsRequired) : ""}
            >
              <option value="">as the connection says</option>
              {[1, 2, 3, 4, 5].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
        </fieldset>
      )}
      <div className="btn-row">
        <button className="btn primary" type="submit" disabled={busy}>
          {existing ? "Save rule" : "Add rule"}
        </button>
        {existing && (
          <button className="btn" type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

export function RuleTable({
  rules,
  connections,
  groups,
}: {
  rules: RuleRow[];
  connections: string[];
  groups: string[];
}) {
  const router = useRouter();
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function remove(rule: RuleRow) {
    if (!window.confirm(`Delete the rule “${rule.name}”? It stops applying at the next statement.`)) return;
    try {
      await rulesApi.remove(rule.id);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (rules.length === 0) {
    return (
      <div className="panel empty">
        <strong>No rules of your own yet</strong>
        The defaults below apply. Add a rule to allow, hold or refuse statements for a connection, a group or
        a table.
      </div>
    );
  }
  return (
    <>
      <Alerts error={error} />
      <table className="data">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Applies to</th>
            <th>Action</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rules.map((r) =>
            editing === r.id ? (
              <tr key={r.id}>
                <td colSpan={4}>
                  <RuleForm
                    existing={r}
                    connections={connections}
                    groups={groups}
                    onDone={() => {
                      setEditing(null);
                      router.refresh();
                    }}
                  />
                </td>
              </tr>
            ) : (
              <tr key={r.id}>
                <td>
                  <strong>{r.name}</strong>
                  {r.message && <div className="muted small">“{r.message}”</div>}
                </td>
                <td className="small">
                  <div>connection: {r.connectionName ?? "all"}</div>
                  <div>groups: {r.groups.length ? r.groups.join(", ") : "everyone"}</div>
                  <div>classes: {r.classes.length ? r.classes.join(", ") : "any"}</div>
                  {r.tables.length > 0 && <div>tables: {r.tables.join(", ")}</div>}
                  {r.functions.length > 0 && <div>functions: {r.functions.join(", ")}</div>}
                  {(r.columns?.length ?? 0) > 0 && (
                    <div>conditions on masked columns: {r.columns?.join(", ")}</div>
                  )}
                  {r.action === "review" && (r.approverGroups?.length || r.approvalsRequired) ? (
                    <div>
                      approved by:{" "}
                      {r.approverGroups?.length ? r.approverGroups.join(", ") : "connection's approvers"}
                      {r.approvalsRequired ? ` (${r.approvalsRequired} needed)` : ""}
                    </div>
                  ) : null}
                </td>
                <td>
                  <ActionTag action={r.action} />
                </td>
                <td>
                  <div className="btn-row">
                    <button className="btn small" type="button" onClick={() => setEditing(r.id)}>
                      Edit
                    </button>
                    <button className="btn small danger" type="button" onClick={() => remove(r)}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </>
  );
}

export function NewRule({ connections, groups }: { connections: string[]; groups: string[] }) {
  const router = useRouter();
  const [key, setKey] = useState(0);
  return (
    <RuleForm
      key={key}
      connections={connections}
      groups={groups}
      onDone={() => {
        setKey((k) => k + 1);
        router.refresh();
      }}
    />
  );
}

export function TryStatement({ connections }: { connections: string[] }) {
  const [result, setResult] = useState<CheckResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    setResult(null);
    try {
      setResult(
        await connectionsApi.check(String(form.get("connection") ?? ""), String(form.get("input") ?? "")),
      );
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (connections.length === 0)
    return <p className="muted">Add a database connection to try statements against its rules.</p>;
  return (
    <form className="stack" onSubmit={onSubmit} aria-label="Try a statement" style={{ maxWidth: 720 }}>
      <div className="field">
        <label htmlFor="try-connection">Connection</label>
        <select id="try-connection" name="connection">
          {connections.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="try-input">Statement</label>
        <textarea
          id="try-input"
          name="input"
          required
          placeholder="with d as (delete from orders returning *) select count(*) from d"
        />
        <span className="hint">
          Nothing runs: the gateway parses the statement and tells what the rules decide.
        </span>
      </div>
      <div>
        <button className="btn primary" type="submit">
          Check
        </button>
      </div>
      <Alerts error={error} />
      {result && (
        <div
          className={`alert ${result.decision === "allow" ? "ok" : result.decision === "deny" ? "error" : "warn"}`}
          data-testid="check-result"
        >
          <strong>
            Decision: {result.decision} (class {result.class})
          </strong>
          <ul style={{ margin: "0.4rem 0 0", paddingLeft: "1.2rem" }}>
            {result.reasons.map((r) => (
              <li key={r.statementIndex}>
                <code>{r.statement.length > 80 ? `${r.statement.slice(0, 80)}…` : r.statement}</code>:{" "}
                {r.class} → <ActionTag action={r.action} /> by “{r.ruleName}”
                {r.message ? `: ${r.message}` : ""}
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
