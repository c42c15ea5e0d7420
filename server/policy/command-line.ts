/**
 * Reads a shell command line well enough to find the commands it runs: splits on ; && || | & ( ) and
 * newlines, removes quotes and backslashes, looks into $(...), `...`, <(...) and `sh -c '...'`, and skips
 * what only wraps a command (VAR=value, sudo, env, nohup, time, nice, timeout, exec, command, xargs ...).
 * Also finds the functions a line defines (functionDefinitions). Reading a command's options is
 * ./read-options.ts.
 * It is not a shell: aliases, functions, variables, globs and scripts are not expanded or followed.
 * Pure; no I/O.
 */

export interface ParsedCommand {
  /** Base name of the program (`/sbin/shutdown` gives `shutdown`). */
  name: string;
  /** Words after the name, quotes removed. */
  args: string[];
  /** The command's words joined by spaces, for messages. */
  text: string;
}

const SEPARATORS = ["&&", "||", "|&", ";;", ";", "|", "&", "\n", "(", ")"];
const KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "for",
  "case",
  "esac",
  "in",
  "select",
  "function",
  "{",
  "}",
  "!",
  "[[",
]);

/** Wrappers that run the rest of their words as a command; the value is how many option words take an argument. */
const WRAPPERS: Record<string, Set<string>> = {
  sudo: new Set(["-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T"]),
  doas: new Set(["-u", "-C"]),
  env: new Set(["-u", "-C", "-S", "--unset", "--chdir"]),
  nohup: new Set(),
  time: new Set(["-f", "-o"]),
  nice: new Set(["-n", "--adjustment"]),
  ionice: new Set(["-c", "-n", "-p"]),
  exec: new Set(["-a"]),
  command: new Set(),
  builtin: new Set(),
  setsid: new Set(),
  stdbuf: new Set(["-i", "-o", "-e"]),
  xargs: new Set(["-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"]),
  chrt: new Set(),
  taskset: new Set(),
  unbuffer: new Set(),
  watch: new Set(["-n", "-d"]),
  timeout: new Set(["-s", "--signal", "-k", "--kill-after"]),
  // busybox and toybox run their first word as the applet: `busybox rm -rf /` is rm.
  busybox: new Set(),
  toybox: new Set(),
};
/** Wrappers whose first plain word is an argument of theirs, not the command (timeout 5 cmd, chrt 10 cmd). */
const WRAPPER_FIRST_ARG = new Set(["timeout", "chrt", "taskset"]);
const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

interface Scan {
  /** Each simple command's words, quotes removed. */
  commands: string[][];
  /** Bodies of command substitutions and process substitutions, to parse on their own. */
  nested: string[];
  /** The line ends inside a quote, a substitution, after a backslash or an operator that wants more. */
  incomplete: boolean;
}

/** Index just past the `)` matching the `(` before `start`, or -1 when it is not closed. */
function matchParen(line: string, start: number): number {
  let depth = 1;
  let quote: "'" | '"' | null = null;
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return -1;
}

function scan(line: string): Scan {
  const commands: string[][] = [];
  const nested: string[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  let incomplete = false;
  let trailingOperator = false;

  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  const substitution = (i: number): number => {
    // i points at `(` of $( or <( or >(; returns the index after the matching `)`.
    const end = matchParen(line, i + 1);
    if (end === -1) {
      nested.push(line.slice(i + 1));
      incomplete = true;
      return line.length;
    }
    nested.push(line.slice(i + 1, end - 1));
    return end;
  };

  for (let i = 0; i < line.length; ) {
    const c = line[i] ?? "";
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      i++;
      continue;
    }
    if (c === "\\") {
      const next = line[i + 1];
      if (next === undefined) {
        incomplete = true;
        i++;
        continue;
      }
      if (next !== "\n") {
        // Inside double quotes a backslash only escapes $ ` " \ and newline.
        if (quote === '"' && !'$`"\\'.includes(next)) word += c;
        word += next;
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (c === "`") {
      const end = line.indexOf("`", i + 1);
      if (end === -1) {
        nested.push(line.slice(i + 1));
        incomplete = true;
        i = line.length;
      } else {
        nested.push(line.slice(i + 1, end));
        i = end + 1;
      }
      inWord = true;
      continue;
    }
    if (c === "$" && line[i + 1] === "(") {
      if (line[i + 2] === "(") {
        // $(( arithmetic )) runs nothing itself, but the substitutions in it do: `$(( $(reboot) ))`.
        const end = matchParen(line, i + 2);
        nested.push(...scan(line.slice(i + 3, end === -1 ? line.length : end - 2)).nested);
        i = end === -1 ? line.length : end;
      } else i = substitution(i + 1);
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else word += c;
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      i++;
      continue;
    }
    if ((c === "<" || c === ">") && line[i + 1] === "(") {
      i = substitution(i + 1);
      continue;
    }
    if (c === "#" && !inWord) {
      const end = line.indexOf("\n", i);
      i = end === -1 ? line.length : end;
      continue;
    }
    if (c === "&" && (line[i - 1] === ">" || line[i - 1] === "<" || line[i + 1] === ">")) {
      // Part of a redirection (`2>&1`, `>&file`, `&>file`), not a command sent to the background.
      word += c;
      inWord = true;
      i++;
      continue;
    }
    const op = SEPARATORS.find((s) => line.startsWith(s, i));
    if (op) {
      endCommand();
      trailingOperator = op !== ";" && op !== "\n" && op !== ")" && op !== "&" && op !== ";;";
      i += op.length;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      endWord();
      i++;
      continue;
    }
    word += c;
    inWord = true;
    if (c !== "") trailingOperator = false;
    i++;
  }
  if (quote) incomplete = true;
  if (inWord || words.length > 0) trailingOperator = false;
  endCommand();
  return { commands, nested, incomplete: incomplete || trailingOperator };
}

const basename = (word: string) => word.slice(word.lastIndexOf("/") + 1);

/** env's `-S string` / `--split-string=string`: the words it stands for, and how many words it took. */
function envSplitString(
  word: string,
  next: string | undefined,
): { words: string[]; consumed: number } | undefined {
  let value: string | undefined;
  let consumed = 1;
  if (word === "--split-string" || /^-[i0v]*S$/.test(word)) {
    value = next;
    consumed = 2;
  } else if (word.startsWith("--split-string=")) value = word.slice("--split-string=".length);
  else if (/^-[i0v]*S/.test(word)) value = word.slice(word.indexOf("S") + 1);
  if (value === undefined) return undefined;
  return { words: scan(value).commands.flat(), consumed };
}

/** Drops assignments, keywords and wrappers in front of the command; returns the command's words. */
function unwrap(words: string[]): string[] {
  let rest = words;
  for (let guard = 0; guard < 32 && rest.length > 0; guard++) {
    const first = rest[0] ?? "";
    if (ASSIGNMENT.test(first) || KEYWORDS.has(first)) {
      rest = rest.slice(1);
      continue;
    }
    const name = basename(first);
    const takesArg = WRAPPERS[name];
    if (!takesArg && !WRAPPER_FIRST_ARG.has(name)) break;
    let i = 1;
    while (i < rest.length) {
      const w = rest[i] ?? "";
      if (w === "--") {
        i++;
        break;
      }
      const split = name === "env" ? envSplitString(w, rest[i + 1]) : undefined;
      if (split) {
        // `env -S 'rm -rf /'` splits its value into the command's words.
        rest = [...rest.slice(0, i), ...split.words, ...rest.slice(i + split.consumed)];
        continue;
      }
      if (name === "env" && ASSIGNMENT.test(w)) i++;
      else if (w.startsWith("-") && w.length > 1) i += takesArg?.has(w) ? 2 : 1;
      else break;
    }
    if (WRAPPER_FIRST_ARG.has(name)) i++;
    // `command -v x` and `time` alone run nothing worth looking at, but the rest is still a command name.
    rest = rest.slice(i);
  }
  return rest;
}

/** The argument of `sh -c '...'` (and `bash -lc`, `su -c`), parsed as a command line of its own. */
function shellScript(name: string, args: string[]): string | undefined {
  if (!SHELLS.has(name) && name !== "su") return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--command" || /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a)) return args[i + 1];
    if (a.startsWith("--command=")) return a.slice("--command=".length);
  }
  return undefined;
}

/** Every command the line would run, in order, including those inside substitutions and `sh -c`. */
export function parseCommandLine(line: string, depth = 0): ParsedCommand[] {
  const found: ParsedCommand[] = [];
  const { commands, nested } = scan(line);
  for (const words of commands) {
    const rest = unwrap(words);
    const first = rest[0];
    if (first === undefined) continue;
    const name = basename(first);
    const args = rest.slice(1);
    found.push({ name, args, text: [name, ...args].join(" ") });
    const script = shellScript(name, args);
    if (script !== undefined && depth < 4) found.push(...parseCommandLine(script, depth + 1));
  }
  if (depth < 4) for (const body of nested) found.push(...parseCommandLine(body, depth + 1));
  return found;
}

/**
 * Whether the shell would ask for more after this line (open quote or substitution, trailing backslash,
 * `|`, `&&` or `||` at the end). The next line then continues the same command.
 */
export function isIncompleteLine(line: string): boolean {
  return scan(line).incomplete;
}

/** Marks quoted text, so the structure of the line (braces, parentheses) is read outside quotes only. */
function unquotedMask(line: string): boolean[] {
  const mask: boolean[] = [];
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== "'" && c === "\\") {
      mask.push(false, false);
      i++;
      continue;
    }
    if (quote === null && (c === "'" || c === '"')) quote = c;
    else if (quote === c) quote = null;
    mask.push(quote === null && c !== "'" && c !== '"');
  }
  return mask;
}

const FUNCTION_HEAD =
  /(?:^|[\s;&|(){}])(?:function\s+([^\s;&|()<>'"`$]+)\s*(?:\(\s*\))?|([^\s;&|()<>'"`$]+)\s*\(\s*\))\s*([{(])/g;

export interface FunctionDefinition {
  name: string;
  body: string;
  /** The body starts commands that run alongside it: a pipeline (`|`) or one in the background (`&`). */
  forks: boolean;
}

/** An unquoted `|` or `&` that is not `||` or `&&`: a pipeline or a command sent to the background. */
function hasConcurrencyOperator(text: string, mask: boolean[], from: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!mask[from + i] || (c !== "|" && c !== "&")) continue;
    if (text[i + 1] === c) {
      i++;
      continue;
    }
    const previous = text[i - 1];
    if (c === "&" && (previous === ">" || previous === "<" || text[i + 1] === ">")) continue; // 2>&1, &>
    return true;
  }
  return false;
}

/**
 * The shell functions the line defines (`name() { ...; }`, `function name { ...; }`, `name() ( ... )`),
 * with the text of their bodies. Definitions inside quotes are text, not definitions.
 */
export function functionDefinitions(line: string): FunctionDefinition[] {
  const mask = unquotedMask(line);
  const found: FunctionDefinition[] = [];
  for (const m of line.matchAll(FUNCTION_HEAD)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    if (!mask[open]) continue;
    const [opening, closing] = m[3] === "{" ? ["{", "}"] : ["(", ")"];
    let depth = 0;
    let end = -1;
    for (let i = open; i < line.length; i++) {
      if (!mask[i]) continue;
      if (line[i] === opening) depth++;
      else if (line[i] === closing && --depth === 0) {
        end = i;
        break;
      }
    }
    const body = line.slice(open + 1, end === -1 ? line.length : end);
    const forks = hasConcurrencyOperator(body, mask, open + 1);
    found.push({ name: basename(m[1] ?? m[2] ?? ""), body, forks });
  }
  return found;
}

/** The script of `sh -c '...'`-like commands, for rules that read a line's structure (functions). */
export function shellScriptOf(command: ParsedCommand): string | undefined {
  return shellScript(command.name, command.args);
}
