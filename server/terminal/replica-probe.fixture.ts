// Test fixture run as a separate Node process (a second console "replica") by replicas.int.test.ts, sharing
// the PostgreSQL store. It reads commands on stdin, one a line, and answers each with one line of JSON:
//   list                      -> the live terminals it sees
//   approve <reviewId> <user> -> approves a review as that user (an id)
//   end <sessionId>           -> ends a live terminal, wherever it runs
// It exits when its stdin closes.
import { createInterface } from "node:readline";
import { getStore } from "@/db/store";
import { decideReview, stopReviewSignals } from "@/server/approvals";
import { loadPrincipal } from "@/server/auth";
import { endLiveTerminal, listLiveTerminals, registerTerminalChannel, stopTerminalSignals } from "./index";

// What a replica's start-up does (server/bootstrap.ts): approvals run an approved terminal line through the
// runner the terminal registered, here as in the console.
registerTerminalChannel();

async function answer(line: string): Promise<unknown> {
  const [command, arg, user] = line.trim().split(/\s+/);
  if (command === "list") return listLiveTerminals();
  if (command === "approve") {
    const principal = await loadPrincipal(user ?? "", "session");
    if (!principal) throw new Error("no such user");
    return (await decideReview(principal, arg ?? "", "approve", "from the other replica")).state;
  }
  if (command === "end") return endLiveTerminal({ id: null, label: "the other replica" }, arg ?? "");
  throw new Error(`unknown command: ${line}`);
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
await stopTerminalSignals();
await (await getStore()).close();
process.exit(0);
