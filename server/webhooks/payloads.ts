/**
 * What a webhook says about a review: a JSON payload, or a Slack-compatible message built from it. Payloads
 * carry what a reviewer sees in the inbox, except values: a statement's literals and comments are replaced
 * (server/masking/statement-literals.ts) and a command line and approvers' comments pass the detectors,
 * because a receiver (a chat channel, a ticket) is read by more people than the approvers, and the approvers
 * read the whole statement in the console. Never credentials. Not responsible for sending (delivery.ts).
 */
import "server-only";
import type { Review } from "@/db/schema";
import { defaultMaskingConfig, type MaskingConfig, maskStatementLiterals, maskText } from "@/server/masking";
import type { ReviewEvent } from "./registry";

export interface ReviewPayload {
  event: ReviewEvent;
  review: {
    id: string;
    state: Review["state"];
    requester: string;
    connection: string;
    class: string;
    input: string;
    createdAt: string;
    decisions: { byLabel: string; at: string; decision: "approve" | "deny"; comment: string }[];
  };
}

/** The detectors for payloads: every type on, values shown as labels (no key material needed). */
const payloadMasking: MaskingConfig = { ...defaultMaskingConfig(""), styles: {} };

/**
 * The reviewed input as a payload carries it: a SQL statement without its literals and comments (a password in
 * ALTER ROLE, a card in a WHERE, a salary in an UPDATE), a terminal command line through the detectors.
 */
async function payloadInput(review: Review): Promise<string> {
  if (review.channel === "terminal") return maskText(review.input, payloadMasking).text;
  return maskStatementLiterals(review.input, payloadMasking);
}

export async function reviewPayload(event: ReviewEvent, review: Review): Promise<ReviewPayload> {
  return {
    event,
    review: {
      id: review.id,
      state: review.state,
      requester: review.requesterLabel,
      connection: review.connectionName,
      class: review.class,
      input: await payloadInput(review),
      createdAt: review.createdAt.toISOString(),
      decisions: review.decisions.map((d) => ({
        byLabel: d.byLabel,
        at: d.at,
        decision: d.decision,
        // An approver's words can quote a value too (“the card 4111... is wrong”).
        comment: maskText(d.comment, payloadMasking).text,
      })),
    },
  };
}

const HEADLINES: Record<ReviewEvent, string> = {
  "review.created": "waits for approval",
  "review.approved": "was approved",
  "review.denied": "was denied",
  "review.executed": "was approved and ran",
  "review.failed": "was approved but failed",
  "review.expired": "expired without a decision",
  "review.cancelled": "was cancelled by the requester",
};

/** Slack's `mrkdwn` treats &, < and > as markup. */
function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function slackMessage(payload: ReviewPayload) {
  const { review } = payload;
  const text = `${review.requester}'s ${review.class} request on ${review.connection} ${HEADLINES[payload.event]}`;
  const input = review.input.length > 2800 ? `${review.input.slice(0, 2800)}…` : review.input;
  const last = review.decisions.at(-1);
  return {
    text: escapeSlack(text),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${escapeSlack(text)}*` } },
      { type: "section", text: { type: "mrkdwn", text: `\`\`\`${escapeSlack(input)}\`\`\`` } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: escapeSlack(
              [
                `review ${review.id}`,
                `state ${review.state}`,
                last &&
                  `${last.decision === "approve" ? "approved" : "denied"} by ${last.byLabel}` +
                    (last.comment ? `: “${last.comment}”` : ""),
              ]
                .filter(Boolean)
                .join(" · "),
            ),
          },
        ],
      },
    ],
  };
}
