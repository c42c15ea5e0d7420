import { describe, expect, it } from "vitest";
import { functionDefinitions, isIncompleteLine, parseCommandLine } from "./command-line";
import { type CommandRule, commandPatternMatches, evaluateCommandLine } from "./evaluate-commands";
import { normalizePath, type OptionSpec, readOptions } from "./read-options";

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
    ["echo $(( $(reboot) + 1 ))", ["echo", "reboot"]],
    ["make > /dev/null 2>&1; halt", ["make", "halt"]],
    ["make &>log & reboot", ["make", "reboot"]],
    ["busybox rm -rf /", ["rm"]],
    ["busybox sh -c 'halt'", ["sh", "halt"]],
    ["timeout -s KILL 5 reboot", ["reboot"]],
    ["timeout -k 1 5 halt", ["halt"]],
    ['env -S "reboot now"', ["reboot"]],
    ["env --split-string='FOO=1 halt'", ["halt"]],
    ["env -iS'shutdown -h now'", ["shutdown"]],
    ["env -uSOMEVAR reboot", ["reboot"]],
    ["env -iS 'halt -p'", ["halt"]],
    ["echo $(( 2 * `halt` ))", ["echo", "halt"]],
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

describe("readOptions", () => {
  const spec: OptionSpec = {
    options: [
      { short: "c", long: "command", value: "required" },
      { short: "x", long: "expanded", value: "none" },
      { long: "csv", value: "none" },
      { long: "help", value: "optional" },
    ],
  };
  const read = (args: string[], s: OptionSpec = spec) => readOptions(args, s);

  it.each([
    [["-xc", "sql"], [{ name: "expanded" }, { name: "command", value: "sql" }], []],
    [["-csql"], [{ name: "command", value: "sql" }], []],
    [["--command=sql", "db"], [{ name: "command", value: "sql" }], ["db"]],
    [["--comm", "sql"], [{ name: "command", value: "sql" }], []],
    [["db", "-c", "sql"], [{ name: "command", value: "sql" }], ["db"]],
    [["--", "-c", "sql"], [], ["-c", "sql"]],
    [["-", "--help"], [{ name: "help" }], ["-"]],
    [["--help=x", "db"], [{ name: "help", value: "x" }], ["db"]],
  ])("reads %j as getopt_long does", (args, options, operands) => {
    expect(read(args)).toEqual([{ options, operands }]);
  });

  it("considers every option an ambiguous prefix could be", () => {
    expect(
      read(["--c", "sql"])
        ?.map((r) => r.options[0]?.name)
        .sort(),
    ).toEqual(["command", "csv"]);
  });

  it("reads an unknown option both with and without a value", () => {
    const operands = read(["--new", "delete", "pod"])?.map((r) => r.operands);
    expect(operands).toContainEqual(["delete", "pod"]);
    expect(operands).toContainEqual(["pod"]);
    expect(read(["-kx", "pod"])?.map((r) => r.options.map((o) => o.name))).toEqual([
      ["k", "expanded"],
      ["k"],
    ]);
  });

  it("reads long options by full name only, and `-n=v` as v, the pflag way", () => {
    const pflag: OptionSpec = {
      pflag: true,
      options: [{ short: "n", long: "namespace", value: "required" }],
    };
    expect(read(["-n=prod", "get"], pflag)).toEqual([
      { options: [{ name: "namespace", value: "prod" }], operands: ["get"] },
    ]);
    expect(read(["--names", "x", "get"], pflag)?.map((r) => r.operands[0])).toContain("x");
  });

  it("gives up (undefined) past the readings it follows", () => {
    const many = Array.from({ length: 8 }, (_, i) => [`--unknown${i}`, "w"]).flat();
    expect(read(many)).toBeUndefined();
  });
});

describe("normalizePath", () => {
  it.each([
    ["//dev/sda", "/dev/sda"],
    ["/dev/../dev/sda", "/dev/sda"],
    ["/./dev/./sda/", "/dev/sda"],
    ["/usr/..", "/"],
    ["/../..", "/"],
    ["///", "/"],
    ["./build", "build"],
    ["../x/../y", "../y"],
    [".", "."],
  ])("%s -> %s", (path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });
});

describe("functionDefinitions", () => {
  it.each([
    ["bomb(){ bomb|bomb& };bomb", [{ name: "bomb", body: " bomb|bomb& ", forks: true }]],
    [":(){ :|:& };:", [{ name: ":", body: " :|:& ", forks: true }]],
    ["function f { g; }", [{ name: "f", body: " g; ", forks: false }]],
    ["function f() { g && h || i 2>&1; }", [{ name: "f", body: " g && h || i 2>&1; ", forks: false }]],
    ["f() ( g & )", [{ name: "f", body: " g & ", forks: true }]],
    ["f(){ echo '}|&'; g; }", [{ name: "f", body: " echo '}|&'; g; ", forks: false }]],
    ["echo 'f(){ f|f& }'", []],
    ["echo $(date)", []],
  ])("finds the functions %j defines", (line, expected) => {
    expect(functionDefinitions(line)).toEqual(expected);
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

  // Options read as the programs read them, paths as the kernel resolves them: respelled attacks decide like
  // the plain ones, and look-alikes stay allowed.
  it.each([
    ["psql -xc 'delete from orders'", "review"],
    ["psql -Xqc 'drop table users'", "review"],
    ["psql -cdelete\\ from\\ t", "review"],
    ["psql -c 'delete from t'", "review"],
    ["psql --comm='delete from t'", "review"],
    ["psql --co 'truncate t'", "review"],
    ["psql --command 'update t set a = 1'", "review"],
    ["psql app -c 'select 1' -c 'delete from t'", "review"],
    ["psql -d app -U me -c 'insert into t values (1)'", "review"],
    ["psql --unknown-flag -c 'delete from t'", "review"],
    ["psql -c 'select 1'", "allow"],
    ["psql -xc 'select 1'", "allow"],
    ["psql --comm='select 1'", "allow"],
    ["psql -d delete -U drop", "allow"],
    ["psql -v x='delete from t' -c 'select 1'", "allow"],
    ["psql -f cleanup.sql", "allow"],
    ["kubectl -v 9 delete pod x", "review"],
    ["kubectl -v9 delete pod x", "review"],
    ["kubectl --v=9 delete pod x", "review"],
    ["kubectl --namespace=prod delete pod x", "review"],
    ["kubectl --namespace prod delete pod x", "review"],
    ["kubectl -n=prod delete pod x", "review"],
    ["kubectl --context prod --user admin delete deploy api", "review"],
    ["kubectl --insecure-skip-tls-verify delete pod x", "review"],
    ["kubectl --some-new-flag value delete pod x", "review"],
    ["kubectl -- delete pod x", "review"],
    ["kubectl get pods -v 9", "allow"],
    ["kubectl -n delete get pods", "allow"],
    ["kubectl get pod delete", "allow"],
    ["kubectl logs deploy/api --since=1h", "allow"],
    ["systemctl -t service stop nginx", "review"],
    ["systemctl --type service stop nginx", "review"],
    ["systemctl --ty=service restart nginx", "review"],
    ["systemctl -H web1 restart nginx", "review"],
    ["systemctl stop -t service nginx", "review"],
    ["systemctl --no-block try-restart nginx", "review"],
    ["systemctl kill nginx", "review"],
    ["systemctl -t service reboot", "deny"],
    ["systemctl --message=maintenance poweroff", "deny"],
    ["systemctl -t service status nginx", "allow"],
    ["systemctl -p stop show nginx", "allow"],
    ["systemctl list-units --state=stop", "allow"],
    ["dd if=/dev/zero of=//dev/sda", "deny"],
    ["dd if=/dev/zero of=/dev/../dev/sda", "deny"],
    ["dd if=/dev/zero of=/./dev/./sda bs=1M", "deny"],
    ["dd if=/dev/zero of=/tmp/../dev/nvme0n1", "deny"],
    ["dd if=/dev/zero of=./file", "allow"],
    ["dd if=/dev/sda of=/dev/null bs=1M count=10", "allow"],
    ["dd if=/dev/zero of=/tmp/dev/sda", "allow"],
    ["cat /dev/zero > /dev/sda", "deny"],
    ["cat disk.img >//dev/sda", "deny"],
    ["cat disk.img 1>/dev/../dev/nvme0n1", "deny"],
    ["echo x >> /dev/sdb", "deny"],
    ["head -c 1M /dev/urandom>/dev/sda", "deny"],
    ["sudo sh -c 'cat img > /dev/sda'", "deny"],
    ["dd if=img >&/dev/sda", "deny"],
    ["echo done >&2", "allow"],
    ["make > /dev/null 2>&1", "allow"],
    ["make 2>/dev/null", "allow"],
    ["make &>/dev/null", "allow"],
    ["echo oops > /dev/stderr", "allow"],
    ["echo hi > /dev/tcp/example.com/80", "allow"],
    ["echo x > ./dev/sda", "allow"],
    ["cat < /dev/sda | wc -c", "allow"],
    ["rm -rf /usr/..", "deny"],
    ["rm -rf /usr/../", "deny"],
    ["rm -rf //", "deny"],
    ["rm -rf /./", "deny"],
    ["rm -r -f /", "deny"],
    ["rm --recursive --force /", "deny"],
    ["rm --rec --force /", "deny"],
    ["rm -rf -- /", "deny"],
    ["rm / -rf", "deny"],
    ["rm -Rf /*", "deny"],
    ["rm -rf ~/..", "deny"],
    ["rm -rf $HOME/../..", "deny"],
    ["rm -rf --no-pres /tmp/x", "deny"],
    ["rm -rf ./build", "allow"],
    ["rm -rf /usr/local/..", "allow"],
    ["rm -rf ~/build", "allow"],
    ["rm -f /", "allow"],
    ["rm -rf -- -r", "allow"],
    ["bomb(){ bomb|bomb& };bomb", "deny"],
    ["bomb() { bomb | bomb & }; bomb", "deny"],
    ["function bomb { bomb & bomb; }; bomb", "deny"],
    ["f() ( f | f & ); f", "deny"],
    ["boom(){ boom|boom& }", "deny"],
    ["bash -c 'x(){ x|x& };x'", "deny"],
    ["greet(){ echo hi; }; greet", "allow"],
    ["retry(){ cmd || retry; }; retry", "allow"],
    ["echo 'bomb(){ bomb|bomb& };bomb'", "allow"],
    [".(){ .|.& };.", "deny"],
    ["echo $(b(){ b|b& };b)", "deny"],
    [
      "fib(){ if [ $1 -lt 2 ]; then echo $1; else echo $(( $(fib $(($1-1))) + $(fib $(($1-2))) )); fi; }; fib 10",
      "allow",
    ],
    ["f(){ f; f; }; f", "allow"],
    ['psql -c"delete from t"', "review"],
    ['psql --command="$(cat cleanup.sql)"', "review"],
    ["sudo -u postgres psql -xc 'delete from t'", "review"],
    ["kubectl -nprod delete pod x", "review"],
    ["kubectl -x get delete pod", "review"],
    ["rm -rf / --no-preserve-root", "deny"],
    ["rm -rf /usr/local/../..", "deny"],
    ["command rm -rf '/'", "deny"],
    ["rm -zzzzzzzz ./file", "allow"],
    ['dd of="/dev/sda" if=/dev/zero', "deny"],
  ])("%j -> %s (options and paths as the program reads them)", async (line, expected) => {
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

  it("matches a pattern's path against the argument's normalised path", () => {
    const cmd = (line: string) => parseCommandLine(line)[0]!;
    expect(commandPatternMatches("cat /etc/shadow", cmd("cat //etc/./shadow"))).toBe(true);
    expect(commandPatternMatches("cat /etc/shadow", cmd("cat /tmp/../etc/shadow"))).toBe(true);
    expect(commandPatternMatches("dd of=/dev/sd*", cmd("dd of=/dev/../dev/sdb"))).toBe(true);
    expect(commandPatternMatches("cat /etc/shadow", cmd("cat /etc/shadow.bak"))).toBe(false);
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
