import { WebhookAdmin, type WebhookRow } from "@/components/webhooks/webhook-admin";
import { requirePrincipal } from "@/server/auth";
import { listWebhookDeliveries, listWebhooks, WEBHOOK_EVENTS } from "@/server/webhooks";

export const metadata = { title: "Webhooks" };

/** An endpoint's URL as shown: its origin, and of the path only the first segment (a path can be a token). */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  const segments = parsed.pathname.split("/").filter(Boolean);
  if (segments.length === 0) return parsed.origin;
  return `${parsed.origin}/${segments[0]}${segments.length > 1 || parsed.search ? "/…" : ""}`;
}

export default async function WebhooksPage() {
  await requirePrincipal("users:manage");
  const endpoints = await listWebhooks();
  const rows: WebhookRow[] = await Promise.all(
    endpoints.map(async (w) => ({
      id: w.id,
      shownUrl: shownUrl(w.url),
      events: w.events,
      format: w.format,
      enabled: w.enabled,
      deliveries: (await listWebhookDeliveries(w.id, 10)).map((d) => ({
        id: d.id,
        event: d.event,
        state: d.state,
        attempts: d.attempts,
        lastError: d.lastError,
        createdAt: d.createdAt,
        nextAttemptAt: d.nextAttemptAt,
      })),
    })),
  );
  return (
    <>
      <h1>Webhooks</h1>
      <p className="lead">
        Endpoints told when a request waits for approval, is approved, denied, run, fails, expires or is
        cancelled, when an access review starts, reminds or closes, and with the audit log's head (checkpoints
        kept outside the store). Each message is signed with the endpoint's secret; deliveries are kept in the
        store and retried with back-off until the endpoint accepts them.
      </p>
      <WebhookAdmin webhooks={rows} events={WEBHOOK_EVENTS} />
    </>
  );
}
