/**
 * Reads one command's arguments the way the program itself does (getopt_long, or Go's pflag as kubectl uses),
 * and normalises paths by their text, so rules decide on what a command does rather than on how it is spelled.
 * Not responsible for finding the commands of a line (command-line.ts) or for deciding (evaluate-commands.ts).
 * Pure; no I/O.
 */

/** One option a program accepts: its letter and/or long name, and whether it takes a value. */
export interface OptionDef {
  short?: string;
  long?: string;
  /** "optional": only attached (`--name=value`), as getopt_long's optional_argument. */
  value: "none" | "required" | "optional";
}

export interface OptionSpec {
  options: OptionDef[];
  /**
   * Go's pflag (kubectl) instead of getopt_long: long options by their full name only, and `-n=prod` gives
   * `prod`. getopt_long takes any unambiguous prefix (`--comm` for `--command`).
   */
  pflag?: boolean;
  /**
   * The table lists every option the program has, none of which it would take the next word for unless listed:
   * an unknown option is an error the program stops at, so it is read as a plain flag (no readings to branch).
   */
  complete?: boolean;
}

export interface OptionReading {
  /** Options in order, named by their long name when they have one (else their letter), with their values. */
  options: { name: string; value?: string }[];
  /** Words that are neither options nor their values, in order. */
  operands: string[];
}

interface ReadingState extends OptionReading {
  at: number;
  ended: boolean;
}

const clone = (s: ReadingState): ReadingState => ({
  ...s,
  options: [...s.options],
  operands: [...s.operands],
});

/**
 * Reads a command's arguments the way the program does (getopt_long, or pflag): clusters (`-xc sql`), values
 * attached (`-csql`, `--command=sql`) or in the next word, unambiguous prefixes (`--comm`), `--` ending the
 * options, and options after operands (GNU getopt and pflag both permute). An option the spec does not know, or
 * a prefix of several, might or might not take the next word: every reading is returned, so a rule asking "could
 * this run X?" asks it of each. More than `limit` readings gives undefined: the caller cannot decide.
 */
export function readOptions(args: string[], spec: OptionSpec, limit = 32): OptionReading[] | undefined {
  const done: OptionReading[] = [];
  const pending: ReadingState[] = [{ at: 0, ended: false, options: [], operands: [] }];
  while (pending.length > 0) {
    if (done.length + pending.length > limit) return undefined;
    const state = pending.pop() as ReadingState;
    const word = args[state.at];
    if (word === undefined) {
      done.push({ options: state.options, operands: state.operands });
      continue;
    }
    state.at++;
    if (state.ended || word === "-" || !word.startsWith("-")) {
      state.operands.push(word);
      pending.push(state);
    } else if (word === "--") {
      state.ended = true;
      pending.push(state);
    } else if (word.startsWith("--")) pending.push(...readLong(state, word.slice(2), args, spec));
    else pending.push(...readCluster(state, word.slice(1), args, spec));
  }
  return done;
}

/** `--name`, `--name=value`, `--name value`; a name not known for sure branches. */
function readLong(state: ReadingState, body: string, args: string[], spec: OptionSpec): ReadingState[] {
  const eq = body.indexOf("=");
  const typed = eq === -1 ? body : body.slice(0, eq);
  const attached = eq === -1 ? undefined : body.slice(eq + 1);
  const exact = spec.options.filter((o) => o.long === typed);
  const candidates =
    exact.length > 0 || spec.pflag ? exact : spec.options.filter((o) => o.long?.startsWith(typed));
  const readings: ReadingState[] = [];
  const take = (name: string, value: string | undefined, consumesNext: boolean) => {
    const next = clone(state);
    next.options.push(value === undefined ? { name } : { name, value });
    if (consumesNext) next.at++;
    readings.push(next);
  };
  const following = args[state.at];
  if (candidates.length === 0) {
    // Unknown: with `=` its value is plain; without, it may take the next word or not.
    take(typed, attached, false);
    if (attached === undefined && following !== undefined && !spec.complete) take(typed, following, true);
    return readings;
  }
  // One candidate is what the program reads; several (an ambiguous prefix) it refuses, but each is considered.
  for (const option of candidates) {
    const name = option.long ?? typed;
    if (attached !== undefined || option.value !== "required") take(name, attached, false);
    else take(name, following, following !== undefined);
  }
  return readings;
}

/** `-abc`: letters until one that takes a value, which takes the rest of the word or the next word. */
function readCluster(state: ReadingState, cluster: string, args: string[], spec: OptionSpec): ReadingState[] {
  const readings: ReadingState[] = [];
  const walk = (current: ReadingState, from: number) => {
    for (let j = from; j < cluster.length; j++) {
      const letter = cluster[j] ?? "";
      const option = spec.options.find((o) => o.short === letter);
      const name = option?.long ?? letter;
      const rest = cluster.slice(j + 1);
      const withValue = () => {
        const next = clone(current);
        let value = rest;
        if (rest === "") {
          value = args[next.at] ?? "";
          if (args[next.at] !== undefined) next.at++;
        } else if (spec.pflag && rest.startsWith("=")) value = rest.slice(1);
        next.options.push({ name, value });
        readings.push(next);
      };
      if (option?.value === "required" || (option?.value === "optional" && rest !== "")) return withValue();
      if (!option && !spec.complete) withValue(); // unknown: it may take a value; below, it is a flag
      current.options.push({ name });
    }
    readings.push(current);
  };
  walk(clone(state), 0);
  return readings;
}

/**
 * A path as the kernel resolves it by its text alone: repeated slashes and `.` dropped, `..` taken back
 * (`//dev/sda`, `/dev/../dev/sda` -> `/dev/sda`; `/usr/..` -> `/`). A relative path stays relative (the shell's
 * working directory is not known); symbolic links are not followed.
 */
export function normalizePath(path: string): string {
  const isAbsolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (part !== ".." || !isAbsolute) parts.push(part);
  }
  if (isAbsolute) return `/${parts.join("/")}`;
  return parts.length > 0 ? parts.join("/") : ".";
}
