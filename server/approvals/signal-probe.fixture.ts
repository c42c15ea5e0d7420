// Test fixture run as a separate Node process (a second "replica") by approvals.int.test.ts: it LISTENs for the
// reviews signal through the shared PostgreSQL store, says "listening", prints "changed" on each signal, and
// answers the first one with a signal of its own (once: its own signal is dispatched locally too). It exits when
// its stdin closes.
import { getStore } from "@/db/store";
import { reviewSignals, signalReviewsChanged, startReviewSignals } from "./signals";

let hasAnswered = false;
reviewSignals.addEventListener("changed", () => {
  process.stdout.write("changed\n");
  if (hasAnswered) return;
  hasAnswered = true;
  void signalReviewsChanged();
});
await startReviewSignals();
process.stdout.write("listening\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  const { stopReviewSignals } = await import("./signals");
  await stopReviewSignals();
  await (await getStore()).close();
  process.exit(0);
});
