/**
 * Decides allow / review / deny for a terminal command line: each command the line runs (see
 * command-line.ts) is decided on its own against the stored command rules, falling back to the built-in
 * defaults, and the line gets the strictest decision. Of the rules matching a command the most specific wins
 * (a connection set > groups set > a longer command pattern), remaining ties go to the stricter action.
 * No stored or default rule matching means allow: a terminal is an allow-by-default channel.
 * It does not read the screen (prompt.ts does) and does not block anything (terminal-session.ts does).
 */
import "server-only";
import { classifySql, DECISION_SEVERITY, type Decision } from "@/server/policy";
import { isIncompleteLine, type ParsedCommand, parseCommandLine } from "./command-line";

export interface CommandRule {
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

export interface CommandContext {
  connectionId: string;
  groups: string[];
}

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

const isOption = (a: string) => a.startsWith("-") && a.length > 1;

function hasShortFlag(args: string[], flag: string, long: string): boolean {
  return args.some((a) => a === long || (/^-[a-zA-Z]+$/.test(a) && a.includes(flag)));
}

const ROOT_TARGET = /^\/+(\*|\.{1,2})?\/*$/;

function isRecursiveRmOfRoot(c: ParsedCommand): boolean {
  if (c.name !== "rm") return false;
  const recursive = hasShortFlag(c.args, "r", "--recursive") || hasShortFlag(c.args, "R", "--recursive");
  const targets = c.args.filter((a) => !isOption(a));
  return recursive && (targets.some((t) => ROOT_TARGET.test(t)) || c.args.includes("--no-preserve-root"));
}

/** `psql ... -c 'sql'` (also --command=, -csql): the SQL of each -c, in order. */
function psqlCommands(args: string[]): string[] {
  const sqls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "-c" || a === "--command") {
      if (args[i + 1] !== undefined) sqls.push(args[i + 1] ?? "");
      i++;
    } else if (a.startsWith("--command=")) sqls.push(a.slice("--command=".length));
    else if (/^-c./.test(a)) sqls.push(a.slice(2));
  }
  return sqls;
}

async function isNonReadPsql(c: ParsedCommand): Promise<boolean> {
  if (c.name !== "psql") return false;
  for (const sql of psqlCommands(c.args)) {
    try {
      if ((await classifySql(sql)).class !== "read") return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** Options of kubectl and systemctl that take a value in the next word (`-n prod`). */
const VALUE_OPTIONS = new Set([
  "-n",
  "--namespace",
  "--context",
  "--cluster",
  "--user",
  "--kubeconfig",
  "-s",
  "--server",
  "-l",
  "--selector",
  "-o",
  "--output",
  "-f",
  "--filename",
  "-H",
  "--host",
  "-M",
  "--machine",
  "-p",
  "--property",
]);

/** The first word that is neither an option nor an option's value: kubectl's or systemctl's verb. */
function subcommand(c: ParsedCommand): string | undefined {
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i] ?? "";
    if (!isOption(a)) return a;
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return undefined;
}

const FORK_BOMB = /([A-Za-z_:.][\w:.]*)\s*\(\)\s*\{\s*\1\s*\|\s*\1\s*&\s*\}\s*;?\s*\1/;

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
      (c) => c.name === "dd" && c.args.some((a) => a.startsWith("of=/dev/")),
    ),
    builtin(
      "power",
      "Shutting the machine down is refused",
      "deny",
      "shutting down or restarting the machine is not allowed",
      (c) =>
        ["shutdown", "reboot", "halt", "poweroff"].includes(c.name) ||
        (c.name === "init" && ["0", "6"].includes(c.args[0] ?? "")) ||
        (c.name === "systemctl" && ["poweroff", "reboot", "halt", "kexec"].includes(subcommand(c) ?? "")),
    ),
    builtin("fork-bomb", "Fork bombs are refused", "deny", "a fork bomb is not allowed", (_c, line) =>
      FORK_BOMB.test(line),
    ),
    builtin(
      "kubectl-delete",
      "kubectl delete needs review",
      "review",
      "deleting Kubernetes objects waits for an approver",
      (c) => c.name === "kubectl" && subcommand(c) === "delete",
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
      (c) => c.name === "systemctl" && ["stop", "restart"].includes(subcommand(c) ?? ""),
    ),
  ];
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let regex = globCache.get(pattern);
  if (!regex) {
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    regex = new RegExp(`^${source}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, regex);
  }
  return regex;
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

/**
 * A "command" pattern is the command name (glob) then words the arguments must contain in that order:
 * "kubectl delete" matches `kubectl -n prod delete pod x`; "mkfs*" matches mkfs.ext4.
 */
export function commandPatternMatches(pattern: string, command: ParsedCommand): boolean {
  const [head, ...rest] = pattern.trim().split(/\s+/);
  if (!head || !glob(head).test(command.name)) return false;
  let from = 0;
  for (const word of rest) {
    const regex = glob(word);
    const at = command.args.findIndex((a, i) => i >= from && regex.test(a));
    if (at === -1) return false;
    from = at + 1;
  }
  return true;
}

function appliesTo(rule: CommandRule, context: CommandContext): boolean {
  return (
    (rule.connectionId === null || rule.connectionId === context.connectionId) &&
    (rule.groups.length === 0 || rule.groups.some((g) => context.groups.includes(g)))
  );
}

function specificity(rule: CommandRule): number {
  const patternWeight = rule.matchKind === "command" ? rule.pattern.trim().split(/\s+/).length : 1;
  return (rule.connectionId !== null ? 1000 : 0) + (rule.groups.length > 0 ? 100 : 0) + patternWeight;
}

function better(a: CommandRule, b: CommandRule | undefined): boolean {
  if (!b) return true;
  const diff = specificity(a) - specificity(b);
  return diff !== 0 ? diff > 0 : DECISION_SEVERITY[a.action] > DECISION_SEVERITY[b.action];
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
  const applicable = rules.filter((r) => appliesTo(r, context));
  const defaults = defaultCommandRules();
  let decision: Decision = "allow";
  const reasons: CommandReason[] = [];
  for (const command of subjects) {
    let best: CommandRule | undefined;
    for (const rule of applicable) {
      if ((await storedMatch(rule, command, line)) && better(rule, best)) best = rule;
    }
    if (!best && command) {
      for (const rule of defaults) {
        if ((await rule.matches(command, line)) && better(rule, best)) best = rule;
      }
    }
    if (!best) continue;
    reasons.push({
      command: best.matchKind === "regex" ? line : (command?.text ?? ""),
      ruleId: best.id,
      ruleName: best.name,
      action: best.action,
      message: best.message || best.name,
      ...(best.action === "review" && best.approverGroups?.length && { approverGroups: best.approverGroups }),
      ...(best.action === "review" &&
        best.approvalsRequired && { approvalsRequired: best.approvalsRequired }),
    });
    if (DECISION_SEVERITY[best.action] > DECISION_SEVERITY[decision]) decision = best.action;
  }
  const decisive = reasons.filter((r) => r.action === decision);
  return {
    decision,
    reasons: decision === "allow" ? reasons : decisive,
    commands: commands.map((c) => c.text),
  };
}

export { isIncompleteLine, parseCommandLine };
