/**
 * The options of the programs the built-in command rules know (rm, psql, kubectl, systemctl), as those programs
 * declare them to getopt_long or pflag, so their arguments are read as the programs read them. A table, no
 * logic; an option missing here is still handled (read-options.ts reads it both with and without a value).
 */
import "server-only";
import type { OptionDef, OptionSpec } from "./read-options";

const none = (short: string | undefined, long?: string): OptionDef => ({ short, long, value: "none" });
const needs = (short: string | undefined, long?: string): OptionDef => ({ short, long, value: "required" });
const maybe = (short: string | undefined, long?: string): OptionDef => ({ short, long, value: "optional" });

/** GNU coreutils rm. */
export const RM: OptionSpec = {
  complete: true,
  options: [
    none("f", "force"),
    none("i"),
    none("I"),
    maybe(undefined, "interactive"),
    none(undefined, "one-file-system"),
    none(undefined, "no-preserve-root"),
    maybe(undefined, "preserve-root"),
    none("r", "recursive"),
    none("R", "recursive"),
    none("d", "dir"),
    none("v", "verbose"),
    none(undefined, "help"),
    none(undefined, "version"),
  ],
};

/** psql (PostgreSQL 15: "aAbc:d:eEf:F:h:HlL:no:p:P:qR:sStT:U:v:VwWxXz?01"). */
export const PSQL: OptionSpec = {
  options: [
    none("a", "echo-all"),
    none("A", "no-align"),
    none("b", "echo-errors"),
    needs("c", "command"),
    needs("d", "dbname"),
    none("e", "echo-queries"),
    none("E", "echo-hidden"),
    needs("f", "file"),
    needs("F", "field-separator"),
    needs("h", "host"),
    none("H", "html"),
    none("l", "list"),
    needs("L", "log-file"),
    none("n", "no-readline"),
    needs("o", "output"),
    needs("p", "port"),
    needs("P", "pset"),
    none("q", "quiet"),
    needs("R", "record-separator"),
    none("s", "single-step"),
    none("S", "single-line"),
    none("t", "tuples-only"),
    needs("T", "table-attr"),
    needs("U", "username"),
    needs("v", "set"),
    needs(undefined, "variable"),
    none("V", "version"),
    none("w", "no-password"),
    none("W", "password"),
    none("x", "expanded"),
    none("X", "no-psqlrc"),
    none("z", "field-separator-zero"),
    none("0", "record-separator-zero"),
    none("1", "single-transaction"),
    none("?"),
    maybe(undefined, "help"),
    none(undefined, "csv"),
  ],
};

/** kubectl's global flags (pflag): the verb is the first word that is neither a flag nor a flag's value. */
export const KUBECTL: OptionSpec = {
  pflag: true,
  options: [
    ...[
      "as",
      "as-group",
      "as-uid",
      "cache-dir",
      "certificate-authority",
      "client-certificate",
      "client-key",
    ].map((long) => needs(undefined, long)),
    ...[
      "cluster",
      "context",
      "kubeconfig",
      "log-flush-frequency",
      "password",
      "profile",
      "profile-output",
    ].map((long) => needs(undefined, long)),
    ...["request-timeout", "tls-server-name", "token", "user", "username", "vmodule"].map((long) =>
      needs(undefined, long),
    ),
    needs("n", "namespace"),
    needs("s", "server"),
    needs("v", "v"),
    needs("f", "filename"),
    needs("l", "selector"),
    needs("o", "output"),
    ...["disable-compression", "insecure-skip-tls-verify", "match-server-version", "warnings-as-errors"].map(
      (long) => none(undefined, long),
    ),
    none("h", "help"),
  ],
};

/** systemctl (getopt "ht:p:P:alqfs:H:M:n:o:iTr"). */
export const SYSTEMCTL: OptionSpec = {
  options: [
    none("h", "help"),
    needs("t", "type"),
    needs("p", "property"),
    needs("P"),
    none("a", "all"),
    none("l", "full"),
    none("q", "quiet"),
    none("f", "force"),
    needs("s", "signal"),
    needs("H", "host"),
    needs("M", "machine"),
    needs("n", "lines"),
    needs("o", "output"),
    none("i", "ignore-inhibitors"),
    none("T", "show-transaction"),
    none("r", "recursive"),
    ...[
      "state",
      "job-mode",
      "kill-whom",
      "kill-value",
      "root",
      "image",
      "image-policy",
      "what",
      "message",
    ].map((long) => needs(undefined, long)),
    ...["boot-loader-menu", "boot-loader-entry", "reboot-argument", "timestamp", "preset-mode", "legend"].map(
      (long) => needs(undefined, long),
    ),
    ...["check-inhibitors", "drop-in", "when", "capsule"].map((long) => needs(undefined, long)),
    ...[
      "version",
      "reverse",
      "after",
      "before",
      "show-types",
      "failed",
      "fail",
      "irreversible",
      "user",
      "system",
    ].map((long) => none(undefined, long)),
    ...[
      "global",
      "wait",
      "no-block",
      "no-legend",
      "no-pager",
      "no-wall",
      "dry-run",
      "no-reload",
      "runtime",
    ].map((long) => none(undefined, long)),
    ...[
      "no-ask-password",
      "plain",
      "with-dependencies",
      "firmware-setup",
      "now",
      "value",
      "marked",
      "read-only",
    ].map((long) => none(undefined, long)),
    ...["mkdir", "ignore-dependencies", "stdin"].map((long) => none(undefined, long)),
  ],
};
