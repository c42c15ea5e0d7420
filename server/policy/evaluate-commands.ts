/**
 * Decides allow / review / deny for a terminal command line: each command the line runs (see
 * command-line.ts) is decided on its own against the stored command rules, falling back to the built-in
 * defaults, and the line gets the strictest decision. Of the rules matching a command the most specific wins
 * (a connection set > groups set > a longer command pattern), remaining ties go to the stricter action.
 * No stored or default rule matching means allow: a terminal is an allow-by-default channel. The built-in
 * rules read the options of the commands they know as those programs do, and compare normalised paths.
 * The order is evaluation-order.ts's, shared with SQL rules; names and words match by glob.ts's matcher.
 * It does not read the screen (server/terminal/prompt.ts does) and does not block anything (the terminal does).
 */
import "server-only";
import { classifySql } from "./classify-statement";
import { functionDefinitions, type ParsedCommand, parseCommandLine, shellScriptOf } from "./command-line";
import {
  appliesToScope,
  approversOf,
  outranks,
  type RuleScope,
  type ScopedRule,
  strictest,
} from "./evaluation-order";
import { globRegex } from "./glob";
import { KUBECTL, PSQL, RM, SYSTEMCTL } from "./known-options";
import { normalizePath, type OptionReading, type OptionSpec, readOptions } from "./read-options";
import type { Decision } from "./types";

export interface CommandRule extends ScopedRule {
  id: string;
  name: string;
  connectionId: string | null;
  groups: string[];
  matchKind: "regex" | "command";
  pattern: string;
  action: Decision;
  message: string;
  /** For review rules: who approves (empty: the connection's approvers) and how many must. */
  approverGroups?: string[];
  approvalsRequired?: number | null;
}

export type CommandContext = RuleScope;

export interface CommandReason {
  /** The command the rule matched (the whole line for regex rules); empty when the line runs nothing. */
  command: string;
  ruleId: string;
  ruleName: string;
  action: Decision;
  message: string;
  approverGroups?: string[];
  approvalsRequired?: number;
}

export interface CommandDecision {
  decision: Decision;
  /** Reasons of the commands that were held or refused; the deciding rule of each otherwise. */
  reasons: CommandReason[];
  commands: string[];
}

/** A built-in rule: like a stored "command" rule, but with a matcher that reads the arguments. */
interface DefaultRule extends CommandRule {
  matches(command: ParsedCommand, line: string): boolean | Promise<boolean>;
}

// The commands the built-in rules know are read as the programs themselves read their arguments (getopt_long,
// or pflag for kubectl: see readOptions and ./known-options.ts), and paths are compared once normalised, so
// spelling an option or a path differently (`-xc`, `--comm=`, `-v 9 delete`, `of=//dev/sda`, `/usr/..`)
// decides the same way.

/**
 * Whether some reading of the command's arguments satisfies `test`. Arguments too tangled to read (more
 * readings than the parser follows) count as satisfying it: the rule cannot decide, so it applies.
 */
function someReading(c: ParsedCommand, spec: OptionSpec, test: (r: OptionReading) => boolean): boolean {
  const readings = readOptions(c.args, spec);
  return readings === undefined || readings.some(test);
}

const has = (r: OptionReading, name: string) => r.options.some((o) => o.name === name);

/**
 * Paths that are the root directory or all of it: `/`, `/usr/..`, `//`, `/*`; a home directory (`~`, `~user`,
 * `$HOME`) counts as one level deep, the shallowest it can be (`/root`), so `~/..` is the root.
 */
function isRootPath(path: string): boolean {
  const home = /^(~[^/]*|\$HOME|\$\{HOME\})(?=\/|$)/;
  const normalized = normalizePath(path.replace(home, "/home-directory"));
  return normalized === "/" || /^\/(\*|\?|\[[^\]]*\])+$/.test(normalized);
}

function isRecursiveRmOfRoot(c: ParsedCommand): boolean {
  if (c.name !== "rm") return false;
  return someReading(
    c,
    RM,
    (r) => has(r, "recursive") && (r.operands.some(isRootPath) || has(r, "no-preserve-root")),
  );
}

/** Devices dd may write: writes to them are thrown away. */
const HARMLESS_DEVICES = new Set(["/dev/null", "/dev/zero", "/dev/full"]);

const isDevice = (path: string) => path.startsWith("/dev/") && !HARMLESS_DEVICES.has(path);

/** Where a redirection goes: a terminal, a standard stream, shared memory or bash's /dev/tcp is no disk. */
const isDeviceForRedirection = (path: string) =>
  isDevice(path) && !/^\/dev\/(std(in|out|err)|tty|fd\/\d+|shm\/.+|(tcp|udp)\/.+|pts\/\d+)$/.test(path);

function isDdToDevice(c: ParsedCommand): boolean {
  if (c.name !== "dd") return false;
  return c.args.some((a) => a.startsWith("of=") && isDevice(normalizePath(a.slice(3))));
}

/**
 * Output redirections of a command (`> /dev/sda`, `1>//dev/sda`, `>>x`, `&>x`, `>|x`), by their target. The
 * line parser keeps them among the words, quotes removed, so a quoted ">" argument reads as one too (stricter).
 */
function redirectionTargets(args: string[]): string[] {
  const targets: string[] = [];
  for (const [i, a] of args.entries()) {
    const m = /^[^<>]*?(?:\d+|&)?>(?:>|\|)?(&?)(.*)$/.exec(a);
    if (!m) continue;
    // `>&2`, `2>&1`, `>&-` duplicate or close a descriptor; `>&file` writes the file.
    if (m[1] === "&" && /^(\d+|-)?$/.test(m[2] ?? "")) continue;
    const target = m[2] === "" ? args[i + 1] : m[2];
    if (target !== undefined) targets.push(target);
  }
  return targets;
}

function redirectsToDevice(c: ParsedCommand): boolean {
  return redirectionTargets([c.name, ...c.args]).some((t) => isDeviceForRedirection(normalizePath(t)));
}

async function isNonReadPsql(c: ParsedCommand): Promise<boolean> {
  if (c.name !== "psql") return false;
  const readings = readOptions(c.args, PSQL);
  if (readings === undefined) return true;
  const sqls = new Set(
    readings.flatMap((r) => r.options.filter((o) => o.name === "command").map((o) => o.value ?? "")),
  );
  for (const sql of sqls) {
    try {
      if ((await classifySql(sql)).class !== "read") return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** kubectl's or systemctl's verb is one of `verbs` in some reading of its arguments. */
function verbIs(c: ParsedCommand, name: string, spec: OptionSpec, verbs: string[]): boolean {
  return c.name === name && someReading(c, spec, (r) => verbs.includes(r.operands[0] ?? ""));
}

/**
 * A fork bomb: a shell function that runs itself more than once each time it runs, in a pipeline or in the
 * background, so its copies multiply while they run (`:(){ :|:& };:`, `bomb(){ bomb|bomb& };bomb`,
 * `function f { f & f; }`), defined on this line or in its `sh -c` scripts. Its definition alone is refused:
 * once defined, calling it later needs no line the rules would recognise. A recursion that waits for its calls
 * (`fib(){ ... $(fib ...) + $(fib ...) ... }`) is not one.
 */
function definesForkBomb(line: string, depth = 0): boolean {
  for (const { name, body, forks } of functionDefinitions(line)) {
    if (forks && parseCommandLine(body).filter((c) => c.name === name).length >= 2) return true;
  }
  if (depth >= 4) return false;
  return parseCommandLine(line).some((c) => {
    const script = shellScriptOf(c);
    return script !== undefined && definesForkBomb(script, depth + 1);
  });
}

/** systemctl verbs that stop or restart a running service. */
const SERVICE_STOPS = [
  "stop",
  "restart",
  "try-restart",
  "reload-or-restart",
  "try-reload-or-restart",
  "condrestart",
  "force-reload",
  "kill",
  "isolate",
];

function builtin(
  id: string,
  name: string,
  action: Decision,
  message: string,
  matches: DefaultRule["matches"],
): DefaultRule {
  return {
    id: `default-${id}`,
    name,
    connectionId: null,
    groups: [],
    matchKind: "command",
    pattern: id,
    action,
    message,
    matches,
  };
}

export function defaultCommandRules(): DefaultRule[] {
  return [
    builtin(
      "rm-root",
      "Deleting the root file system is refused",
      "deny",
      "recursive deletion of / is not allowed",
      isRecursiveRmOfRoot,
    ),
    builtin("mkfs", "Formatting file systems is refused", "deny", "mkfs formats a file system", (c) =>
      c.name.startsWith("mkfs"),
    ),
    builtin(
      "dd-device",
      "Writing raw devices is refused",
      "deny",
      "dd writing to a device is not allowed",
      isDdToDevice,
    ),
    builtin(
      "redirect-device",
      "Writing raw devices is refused",
      "deny",
      "redirecting output to a device is not allowed",
      redirectsToDevice,
    ),
    builtin(
      "power",
      "Shutting the machine down is refused",
      "deny",
      "shutting down or restarting the machine is not allowed",
      (c) =>
        ["shutdown", "reboot", "halt", "poweroff"].includes(c.name) ||
        (c.name === "init" && ["0", "6"].includes(c.args[0] ?? "")) ||
        verbIs(c, "systemctl", SYSTEMCTL, ["poweroff", "reboot", "halt", "kexec", "soft-reboot"]),
    ),
    builtin("fork-bomb", "Fork bombs are refused", "deny", "a fork bomb is not allowed", (_c, line) =>
      definesForkBomb(line),
    ),
    builtin(
      "kubectl-delete",
      "kubectl delete needs review",
      "review",
      "deleting Kubernetes objects waits for an approver",
      (c) => verbIs(c, "kubectl", KUBECTL, ["delete"]),
    ),
    builtin(
      "psql-write",
      "psql -c with anything but a read needs review",
      "review",
      "SQL that is not a read, run through psql -c, waits for an approver",
      isNonReadPsql,
    ),
    builtin(
      "systemctl-stop",
      "Stopping or restarting services needs review",
      "review",
      "stopping or restarting a service waits for an approver",
      (c) => verbIs(c, "systemctl", SYSTEMCTL, SERVICE_STOPS),
    ),
  ];
}

const regexCache = new Map<string, RegExp | null>();
function compiledRegex(pattern: string): RegExp | null {
  if (!regexCache.has(pattern)) {
    let regex: RegExp | null = null;
    try {
      regex = new RegExp(pattern);
    } catch {
      console.warn(`[portcullis] command rule pattern is not a valid regular expression: ${pattern}`);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, regex);
  }
  return regexCache.get(pattern) ?? null;
}

/** An argument's path (`/etc//shadow`, `of=/dev/../dev/sda`) as normalizePath gives it; other words as they are. */
function normalizedWord(word: string): string {
  const at = word.indexOf("/");
  if (at === -1) return word;
  const key = /^[A-Za-z][\w-]*=/.exec(word)?.[0] ?? "";
  return key.length <= at ? `${key}${normalizePath(word.slice(key.length))}` : word;
}

/**
 * A "command" pattern is the command name (glob) then words the arguments must contain in that order:
 * "kubectl delete" matches `kubectl -n prod delete pod x`; "mkfs*" matches mkfs.ext4. A word matches an
 * argument as typed or with its path normalised ("cat /etc/shadow" matches `cat //etc/./shadow`).
 */
export function commandPatternMatches(pattern: string, command: ParsedCommand): boolean {
  const [head, ...rest] = pattern.trim().split(/\s+/);
  if (!head || !globRegex(head).test(command.name)) return false;
  let from = 0;
  for (const word of rest) {
    const regex = globRegex(word);
    const at = command.args.findIndex(
      (a, i) => i >= from && (regex.test(a) || regex.test(normalizedWord(a))),
    );
    if (at === -1) return false;
    from = at + 1;
  }
  return true;
}

/** [connection set, groups set, words of a command pattern (a regex counts one)]: evaluation-order.ts. */
function specificity(rule: CommandRule): [number, number, number] {
  const patternWeight = rule.matchKind === "command" ? rule.pattern.trim().split(/\s+/).length : 1;
  return [rule.connectionId !== null ? 1 : 0, rule.groups.length > 0 ? 1 : 0, patternWeight];
}

async function storedMatch(rule: CommandRule, command: ParsedCommand | undefined, line: string) {
  if (rule.matchKind === "regex") return compiledRegex(rule.pattern)?.test(line) ?? false;
  return command !== undefined && commandPatternMatches(rule.pattern, command);
}

/** Decides a command line. `rules` are the stored rules; the built-in defaults apply where none matches. */
export async function evaluateCommandLine(
  line: string,
  rules: CommandRule[],
  context: CommandContext,
): Promise<CommandDecision> {
  const commands = parseCommandLine(line);
  const subjects: (ParsedCommand | undefined)[] = commands.length > 0 ? commands : [undefined];
  const applicable = rules.filter((r) => appliesToScope(r, context));
  const defaults = defaultCommandRules();
  const reasons: CommandReason[] = [];
  for (const command of subjects) {
    let best: CommandRule | undefined;
    for (const rule of applicable) {
      if ((await storedMatch(rule, command, line)) && outranks(rule, best, specificity)) best = rule;
    }
    if (!best && command) {
      for (const rule of defaults) {
        if ((await rule.matches(command, line)) && outranks<CommandRule>(rule, best, specificity))
          best = rule;
      }
    }
    if (!best) continue;
    reasons.push({
      command: best.matchKind === "regex" ? line : (command?.text ?? ""),
      ruleId: best.id,
      ruleName: best.name,
      action: best.action,
      message: best.message || best.name,
      ...approversOf(best),
    });
  }
  const decision = strictest(reasons.map((r) => r.action));
  const decisive = reasons.filter((r) => r.action === decision);
  return {
    decision,
    reasons: decision === "allow" ? reasons : decisive,
    commands: commands.map((c) => c.text),
  };
}
