// Test fixture run as a separate Node process (a second console "replica") by review-notices.int.test.ts, sharing
// the PostgreSQL store. It reads commands on stdin, one a line, and answers each with one line of JSON:
//   approve <reviewId> <userId> -> approves a review as that user
//   deny <reviewId> <userId>    -> denies it
// It exits when its stdin closes.
import { createInterface } from "node:readline";
import { getStore } from "@/db/store";
import { decideReview, stopReviewSignals } from "@/server/approvals";
import { loadPrincipal } from "@/server/auth";
import { registerSqlChannel } from "@/server/pipeline";

// What a replica's start-up does (server/bootstrap.ts): an approved native statement is handed back to its client.
registerSqlChannel();

async function answer(line: string): Promise<unknown> {
  const [command, reviewId, userId] = line.trim().split(/\s+/);
  const principal = await loadPrincipal(userId ?? "", "session");
  if (!principal) throw new Error("no such user");
  if (command !== "approve" && command !== "deny") throw new Error(`unknown command: ${line}`);
  return (await decideReview(principal, reviewId ?? "", command, `${command} from the other replica`)).state;
}

process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  try {
    process.stdout.write(`${JSON.stringify({ ok: (await answer(line)) ?? null })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
  }
}
await stopReviewSignals();
await (await getStore()).close();
process.exit(0);
