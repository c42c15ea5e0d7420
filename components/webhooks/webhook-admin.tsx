"use client";

import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { CheckboxList } from "@/components/ui/checkbox-list";
import { useApiAction } from "@/components/ui/use-api-action";
import { webhooksApi } from "@/lib/api";

export interface WebhookRow {
  id: string;
  /** the origin and, when the path could hold a token, only its first segment */
  shownUrl: string;
  events: string[];
  format: "json" | "slack";
  enabled: boolean;
  deliveries: {
    id: string;
    event: string;
    state: "pending" | "delivered" | "failed";
    attempts: number;
    lastError: string | null;
    createdAt: string;
    nextAttemptAt: string | null;
  }[];
}

const when = (iso: string) => new Date(iso).toLocaleString();

function DeliveryState({ d }: { d: WebhookRow["deliveries"][number] }) {
  if (d.state === "delivered") return <span className="tag ok">delivered</span>;
  if (d.state === "failed") return <span className="tag off">failed</span>;
  return <span className="tag">pending</span>;
}

/** Webhook endpoints: add one (its secret shown once), send a test message, see deliveries, enable, remove. */
export function WebhookAdmin({ webhooks, events }: { webhooks: WebhookRow[]; events: readonly string[] }) {
  const { error, notice, busy, run } = useApiAction();
  const [secret, setSecret] = useState<string | null>(null);

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const chosen = form.getAll("events").map(String);
    const ownSecret = String(form.get("secret") ?? "").trim();
    setSecret(null);
    await run(async () => {
      const created = await webhooksApi.create({
        url: String(form.get("url") ?? ""),
        format: String(form.get("format") ?? "json"),
        ...(chosen.length > 0 && { events: chosen }),
        ...(ownSecret && { secret: ownSecret }),
      });
      if (!ownSecret) setSecret(created.secret);
      formEl.reset();
    });
  }

  return (
    <>
      <Alerts error={error} notice={notice} />
      {secret && (
        <div className="alert ok" role="status">
          Endpoint added. Its signing secret, shown this once (a receiver checks{" "}
          <code>X-Portcullis-Signature</code> with it):
          <pre className="code-block" data-testid="webhook-secret">
            {secret}
          </pre>
        </div>
      )}
      {webhooks.length === 0 ? (
        <div className="panel empty">
          <strong>No webhook endpoints yet</strong>
          Add one below to tell chat or ticketing tools when a request waits for approval, is decided or runs.
        </div>
      ) : (
        webhooks.map((w) => (
          <section className="panel" key={w.id} aria-label={`Webhook ${w.shownUrl}`}>
            <div className="page-head" style={{ marginBottom: "0.5rem" }}>
              <div>
                <strong style={{ overflowWrap: "anywhere" }}>{w.shownUrl}</strong>{" "}
                <span className="tag">{w.format === "slack" ? "Slack message" : "JSON"}</span>
                {!w.enabled && <span className="tag off">disabled</span>}
                <div className="small muted" style={{ marginTop: "0.35rem" }}>
                  {w.events.map((e) => (
                    <span className="tag" key={e}>
                      {e}
                    </span>
                  ))}
                </div>
              </div>
              <div className="btn-row">
                <button
                  className="btn small"
                  type="button"
                  disabled={!w.enabled}
                  title={w.enabled ? undefined : "enable the endpoint first"}
                  onClick={() =>
                    run(
                      () => webhooksApi.test(w.id),
                      "Test message queued: its delivery shows below in a moment (reload to follow it).",
                    )
                  }
                >
                  Send a test message
                </button>
                <button
                  className="btn small"
                  type="button"
                  onClick={() => run(() => webhooksApi.update(w.id, { enabled: !w.enabled }))}
                >
                  {w.enabled ? "Disable" : "Enable"}
                </button>
                <button
                  className="btn small danger"
                  type="button"
                  onClick={() => {
                    if (
                      window.confirm(
                        `Remove the endpoint ${w.shownUrl}? Deliveries not yet sent are dropped.`,
                      )
                    )
                      void run(() => webhooksApi.remove(w.id));
                  }}
                >
                  Remove
                </button>
              </div>
            </div>
            {w.deliveries.length === 0 ? (
              <p className="muted small">
                No deliveries yet. Send a test message to check that the receiver accepts signed requests.
              </p>
            ) : (
              <table className="data" aria-label={`Recent deliveries to ${w.shownUrl}`}>
                <thead>
                  <tr>
                    <th>Event</th>
                    <th>State</th>
                    <th>Attempts</th>
                    <th>Last error</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {w.deliveries.map((d) => (
                    <tr key={d.id}>
                      <td>
                        <code>{d.event}</code>
                      </td>
                      <td>
                        <DeliveryState d={d} />
                        {d.nextAttemptAt && (
                          <div className="small muted">next try {when(d.nextAttemptAt)}</div>
                        )}
                      </td>
                      <td>{d.attempts}</td>
                      <td className="small">
                        {d.lastError ?? <span className="muted">none</span>}
                        {d.state === "failed" && (
                          <div>
                            <button
                              className="btn small"
                              type="button"
                              disabled={busy}
                              onClick={() =>
                                run(
                                  () => webhooksApi.retryDelivery(w.id, d.id),
                                  "Sending it again: reload to follow it.",
                                )
                              }
                            >
                              Send again
                            </button>
                          </div>
                        )}
                      </td>
                      <td className="small">{when(d.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ))
      )}
      <h2>Add an endpoint</h2>
      <div className="panel">
        <form className="stack" onSubmit={onCreate} aria-label="New webhook endpoint">
          <div className="grid-2">
            <div className="field">
              <label htmlFor="webhook-url">URL</label>
              <input
                id="webhook-url"
                name="url"
                type="url"
                required
                placeholder="https://hooks.example.com/portcullis"
              />
            </div>
            <div className="field">
              <label htmlFor="webhook-format">Format</label>
              <select id="webhook-format" name="format" defaultValue="json">
                <option value="json">JSON (signed payload)</option>
                <option value="slack">Slack-compatible message</option>
              </select>
            </div>
          </div>
          <div className="field">
            <span className="label">Events (none ticked: every review event)</span>
            <CheckboxList name="events" options={events} />
          </div>
          <div className="field">
            <label htmlFor="webhook-secret">Signing secret (optional)</label>
            <input id="webhook-secret" name="secret" type="password" autoComplete="off" minLength={16} />
            <span className="hint">Leave empty and the gateway makes one and shows it once.</span>
          </div>
          <div>
            <button className="btn primary" type="submit" disabled={busy}>
              Add endpoint
            </button>
          </div>
        </form>
      </div>
    </>
  );
}
