/**
 * Campaign announcements: the webhook events a campaign sends when it starts, is due soon (one reminder,
 * REMINDER_BEFORE_MS before its due date, or an admin's nudge) and is closed, and the timer that looks for due
 * reminders. Not responsible for webhook delivery (server/webhooks) or for the campaigns' state (campaigns.ts).
 */
import "server-only";
import type { AccessReviewCampaign, AccessReviewItem } from "@/db/schema";
import { getDb } from "@/db/store";
import { notifyWebhookEvent } from "@/server/webhooks";
import { DAY_MS, progressByReviewer } from "./evidence";
import { campaignItems, takeDueReminders } from "./store";

/** Reminders go out once, this long before the due date. */
export const REMINDER_BEFORE_MS = 2 * DAY_MS;

function campaignPayload(campaign: AccessReviewCampaign, items: AccessReviewItem[]) {
  return {
    id: campaign.id,
    name: campaign.name,
    state: campaign.state,
    dueAt: campaign.dueAt.toISOString(),
    createdBy: campaign.createdByLabel,
    items: items.length,
    decided: items.filter((i) => i.decision !== null).length,
    progress: progressByReviewer(items),
  };
}

const CAMPAIGN_HEADLINES = {
  "campaign.started": "started",
  "campaign.reminder": "is due soon",
  "campaign.closed": "was closed",
} as const;

export function announce(
  event: keyof typeof CAMPAIGN_HEADLINES,
  campaign: AccessReviewCampaign,
  items: AccessReviewItem[],
) {
  const payload = { event, campaign: campaignPayload(campaign, items) };
  const text = `Access review "${campaign.name}" ${CAMPAIGN_HEADLINES[event]}: ${payload.campaign.decided} of ${items.length} items decided, due ${payload.campaign.dueAt.slice(0, 10)}`;
  notifyWebhookEvent(event, payload, () => ({
    text: text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"),
  }));
}

/** Sends the one reminder of each open campaign due within REMINDER_BEFORE_MS; returns how many went out. */
export async function sendDueReminders(now = new Date()): Promise<number> {
  const db = await getDb();
  const due = await takeDueReminders(db, now, new Date(now.getTime() + REMINDER_BEFORE_MS));
  if (due.length === 0) return 0;
  const items = await campaignItems(
    db,
    due.map((c) => c.id),
  );
  for (const campaign of due)
    announce(
      "campaign.reminder",
      campaign,
      items.filter((i) => i.campaignId === campaign.id),
    );
  return due.length;
}

/** Checks for due reminders every 15 minutes (and whenever the campaign list is read); returns the stop. */
export function startCampaignReminders(): () => Promise<void> {
  const timer = setInterval(() => {
    sendDueReminders().catch((error: unknown) => {
      console.error("[portcullis] access review reminders failed:", error);
    });
  }, 15 * 60_000);
  timer.unref();
  return async () => clearInterval(timer);
}
