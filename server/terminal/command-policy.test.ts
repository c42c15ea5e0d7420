import { describe, expect, it } from "vitest";
import { isIncompleteLine, parseCommandLine } from "./command-line";
import { type CommandRule, commandPatternMatches, evaluateCommandLine } from "./command-policy";

const context = { connectionId: "conn-1", groups: ["ops"] };
const names = (line: string) => parseCommandLine(line).map((c) => c.name);

describe("parseCommandLine", () => {
  it.each([
    ["ls -la", ["ls"]],
    ["cd /tmp && rm -rf x || echo failed; date", ["cd", "rm", "echo", "date"]],
    ["cat f | grep x |& tee y", ["cat", "grep", "tee"]],
    ["sleep 1 & wait", ["sleep", "wait"]],
    ["FOO=1 BAR='a b' make", ["make"]],
    ["sudo -u root -E shutdown -h now", ["shutdown"]],
    ["env -i PATH=/bin nohup time nice -n 5 reboot", ["reboot"]],
    ["timeout 5 halt", ["halt"]],
    ["/sbin/poweroff", ["poweroff"]],
    ["'shut'down", ["shutdown"]],
    ['"reb"oot', ["reboot"]],
    ["s\\hutdown", ["shutdown"]],
    ["echo $(shutdown -r now)", ["echo", "shutdown"]],
    ["echo `halt`", ["echo", "halt"]],
    ["bash -c 'reboot now'", ["bash", "reboot"]],
    ['sh -lc "kubectl delete pod x"', ["sh", "kubectl"]],
    ["echo 'a; reboot'", ["echo"]],
    ['echo "rm -rf /" # reboot', ["echo"]],
    ["if true; then reboot; fi", ["true", "reboot"]],
    ["(cd /; halt)", ["cd", "halt"]],
    ["echo one\nreboot", ["echo", "reboot"]],
    ["diff <(ls a) <(ls b)", ["diff", "ls", "ls"]],
    ["echo $((1+2))", ["echo"]],
  ])("finds the commands of %j", (line, expected) => {
    expect(names(line)).toEqual(expected);
  });

  it("keeps arguments with quotes removed", () => {
    expect(parseCommandLine(`psql -d app -c 'drop table "t"'`)[0]?.args).toEqual([
      "-d",
      "app",
      "-c",
      'drop table "t"',
    ]);
  });

  it.each([
    ["echo 'open", true],
    ['echo "open', true],
    ["echo a \\", true],
    ["ls |", true],
    ["true &&", true],
    ["echo $(date", true],
    ["echo done", false],
    ["sleep 1 &", false],
    ["echo a;", false],
  ])("knows whether %j continues on the next line", (line, expected) => {
    expect(isIncompleteLine(line)).toBe(expected);
  });
});

describe("built-in command rules", () => {
  it.each([
    ["rm -rf /", "deny"],
    ["rm -fr /*", "deny"],
    ["rm -r -f /", "deny"],
    ["sudo rm --recursive --force /", "deny"],
    ["rm -rf --no-preserve-root /", "deny"],
    ["rm -rf ./build", "allow"],
    ["rm -f /tmp/x", "allow"],
    ["mkfs.ext4 /dev/sdb1", "deny"],
    ["mkfs -t xfs /dev/sdc", "deny"],
    ["dd if=/dev/zero of=/dev/sda bs=1M", "deny"],
    ["dd if=/dev/zero of=./disk.img bs=1M count=1", "allow"],
    ["shutdown -h now", "deny"],
    ["reboot", "deny"],
    ["halt", "deny"],
    ["poweroff", "deny"],
    ["systemctl reboot", "deny"],
    ["init 0", "deny"],
    [":(){ :|:& };:", "deny"],
    ["bomb(){ bomb|bomb& }; bomb", "deny"],
    ["kubectl delete pod web-1", "review"],
    ["kubectl -n prod delete deploy api", "review"],
    ["kubectl get pods", "allow"],
    ["psql -d app -c 'drop table users'", "review"],
    ["psql -c 'select 1'", "allow"],
    ["psql --command='delete from t'", "review"],
    ["psql -c 'select 1' -c 'update t set a = 1'", "review"],
    ["systemctl stop nginx", "review"],
    ["systemctl restart nginx", "review"],
    ["systemctl status nginx", "allow"],
    ["echo shutdown", "allow"],
    ["ls; reboot", "deny"],
    ["kubectl delete pod x; shutdown now", "deny"],
    ["", "allow"],
  ])("%j -> %s", async (line, expected) => {
    expect((await evaluateCommandLine(line, [], context)).decision).toBe(expected);
  });

  it("says which rule refused and why", async () => {
    const decision = await evaluateCommandLine("ls && sudo shutdown -h now", [], context);
    expect(decision.reasons).toEqual([
      expect.objectContaining({
        command: "shutdown -h now",
        ruleId: "default-power",
        action: "deny",
        message: "shutting down or restarting the machine is not allowed",
      }),
    ]);
  });
});

function rule(partial: Partial<CommandRule> & Pick<CommandRule, "pattern" | "action">): CommandRule {
  return {
    id: `r-${partial.pattern}-${partial.action}-${partial.connectionId ?? ""}-${(partial.groups ?? []).join()}`,
    name: partial.name ?? partial.pattern,
    connectionId: null,
    groups: [],
    matchKind: "command",
    message: "",
    ...partial,
  };
}

describe("stored command rules", () => {
  it("matches command patterns by name glob and ordered argument words", () => {
    const cmd = (line: string) => parseCommandLine(line)[0]!;
    expect(commandPatternMatches("kubectl delete", cmd("kubectl -n prod delete pod x"))).toBe(true);
    expect(commandPatternMatches("kubectl delete", cmd("kubectl get delete"))).toBe(true);
    expect(commandPatternMatches("kubectl delete pod", cmd("kubectl delete deploy x"))).toBe(false);
    expect(commandPatternMatches("mkfs*", cmd("mkfs.ext4 /dev/x"))).toBe(true);
    expect(commandPatternMatches("git push", cmd("git status"))).toBe(false);
  });

  it("a stored rule overrides the defaults for what it matches", async () => {
    const rules = [rule({ pattern: "reboot", action: "allow", groups: ["ops"] })];
    expect((await evaluateCommandLine("reboot", rules, context)).decision).toBe("allow");
    expect((await evaluateCommandLine("reboot", rules, { ...context, groups: ["dev"] })).decision).toBe(
      "deny",
    );
  });

  it("the most specific rule wins: connection over groups over pattern length", async () => {
    const rules = [
      rule({ pattern: "git", action: "deny" }),
      rule({ pattern: "git status", action: "allow" }),
      rule({ pattern: "git", action: "review", groups: ["ops"] }),
      rule({ pattern: "git", action: "allow", connectionId: "conn-1" }),
    ];
    expect((await evaluateCommandLine("git push", rules, context)).decision).toBe("allow");
    expect(
      (await evaluateCommandLine("git push", rules, { ...context, connectionId: "other" })).decision,
    ).toBe("review");
    expect((await evaluateCommandLine("git status", rules.slice(0, 2), context)).decision).toBe("allow");
    expect((await evaluateCommandLine("git push", rules.slice(0, 2), context)).decision).toBe("deny");
  });

  it("ties go to the stricter action", async () => {
    const rules = [rule({ pattern: "curl", action: "allow" }), rule({ pattern: "curl", action: "review" })];
    expect((await evaluateCommandLine("curl x", rules, context)).decision).toBe("review");
  });

  it("regex rules match the whole line", async () => {
    const rules = [
      rule({
        matchKind: "regex",
        pattern: "prod-db[0-9]+",
        action: "deny",
        message: "not the production database",
      }),
    ];
    const decision = await evaluateCommandLine("ssh prod-db1 uptime", rules, context);
    expect(decision.decision).toBe("deny");
    expect(decision.reasons[0]?.message).toBe("not the production database");
    expect((await evaluateCommandLine("ssh staging uptime", rules, context)).decision).toBe("allow");
  });

  it("ignores a rule whose regex does not compile", async () => {
    const rules = [rule({ matchKind: "regex", pattern: "([", action: "deny" })];
    expect((await evaluateCommandLine("ls", rules, context)).decision).toBe("allow");
  });

  it("carries a review rule's own approvers into its reason", async () => {
    const approvers = { approverGroups: ["sre-leads"], approvalsRequired: 2 };
    const held = await evaluateCommandLine(
      "kubectl delete pod x",
      [rule({ pattern: "kubectl delete", action: "review", ...approvers })],
      context,
    );
    expect(held.reasons[0]).toMatchObject({ action: "review", ...approvers });
    const allowed = await evaluateCommandLine(
      "kubectl delete pod x",
      [rule({ pattern: "kubectl delete", action: "allow", ...approvers })],
      context,
    );
    expect(allowed.reasons[0]).not.toHaveProperty("approverGroups");
  });
});
