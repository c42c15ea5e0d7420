// Shared setup of the terminal integration tests: the SSH connection "box" to a test sshd, and a command rule
// that holds any line mentioning "portcullis-marker" for review (tests touch marker files to see what ran).
import type { SshdServer } from "@/test/harness/sshd";

const actor = { id: null, label: "test" };

export async function addTestBox(sshd: SshdServer, group: string) {
  const { createConnection } = await import("@/server/connections");
  const { createCommandRule } = await import("@/server/policy");
  await createCommandRule(actor, {
    name: "Markers wait for a review",
    matchKind: "regex",
    pattern: "portcullis-marker",
    action: "review",
    message: "markers need a second pair of eyes",
  });
  return createConnection(actor, {
    kind: "ssh",
    name: "box",
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    password: sshd.password,
    groups: [group],
  });
}
