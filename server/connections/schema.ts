/** Request shapes for connections, shared by the API, the console's forms and the admin command line. */
import { z } from "zod";
import { groupNameSchema } from "@/server/auth";

export const connectionNameSchema = z
  .string()
  .trim()
  .min(1, "a connection name is required")
  .max(63, "the connection name is too long (63 characters at most)")
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    "a connection name uses lower-case letters, digits, _ and - (it appears in URLs)",
  );

const hostSchema = z
  .string()
  .trim()
  .min(1, "a host is required")
  .max(255, "the host is too long")
  .regex(/^[A-Za-z0-9._:[\]-]+$/, "the host must be a hostname or an IP address");
const portSchema = z.coerce
  .number()
  .int("the port must be a whole number")
  .min(1)
  .max(65535, "ports go up to 65535");

/** Who approves held requests on this connection (admins always may), and how many approvals it takes. */
export const approvalSettingsSchema = z.strictObject({
  approverGroups: z.array(groupNameSchema).max(20).default([]),
  approvalsRequired: z
    .number()
    .int()
    .min(1, "at least one approval")
    .max(5, "at most five approvals")
    .default(1),
});

const limitSeconds = (what: string, max: number, maxText: string) =>
  z
    .number({ message: `${what} is a number of seconds` })
    .int(`${what} is a whole number of seconds`)
    .min(10, `${what} is at least 10 seconds`)
    .max(max, `${what} is at most ${maxText}`)
    .nullable()
    .optional();

/**
 * Time limits of browser terminals on an SSH connection; null or absent falls back to the gateway's defaults
 * (TERMINAL_IDLE_TIMEOUT, TERMINAL_MAX_DURATION).
 */
export const terminalLimitsSchema = z
  .strictObject({
    idleTimeoutSeconds: limitSeconds("the idle timeout", 24 * 3600, "24 hours"),
    maxDurationSeconds: limitSeconds("the maximum duration", 7 * 24 * 3600, "7 days"),
  })
  .refine(
    (t) => !t.idleTimeoutSeconds || !t.maxDurationSeconds || t.idleTimeoutSeconds <= t.maxDurationSeconds,
    { message: "the idle timeout cannot be longer than the maximum duration", path: ["idleTimeoutSeconds"] },
  );

/** A fingerprint an admin trusts for an SSH connection, as OpenSSH prints it. */
export const trustHostKeySchema = z.strictObject({
  fingerprint: z
    .string()
    .trim()
    .regex(
      /^SHA256:[A-Za-z0-9+/]{43}$/,
      "a host key fingerprint looks like SHA256: and 43 base64 characters",
    ),
});

const credentialFields = {
  /** undefined keeps the stored value on update; "" clears it */
  password: z.string().max(4096, "the password is too long").optional(),
  privateKey: z.string().max(16_384, "the private key is too long").optional(),
  passphrase: z.string().max(1024).optional(),
};

const common = {
  name: connectionNameSchema,
  description: z.string().trim().max(500).default(""),
  host: hostSchema,
  port: portSchema.optional(),
  username: z.string().trim().min(1, "a username is required").max(128),
  groups: z.array(groupNameSchema).default([]),
  approvals: approvalSettingsSchema.optional(),
  terminal: terminalLimitsSchema.optional(),
  ...credentialFields,
};

export const createConnectionSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("postgres"),
    database: z.string().trim().min(1, "a database is required").max(128),
    ...common,
  }),
  z.strictObject({ kind: z.literal("ssh"), database: z.undefined().optional(), ...common }),
]);
export type CreateConnectionInput = z.input<typeof createConnectionSchema>;

export const updateConnectionSchema = z.strictObject({
  name: connectionNameSchema.optional(),
  description: z.string().trim().max(500).optional(),
  host: hostSchema.optional(),
  port: portSchema.optional(),
  database: z.string().trim().min(1).max(128).optional(),
  username: z.string().trim().min(1).max(128).optional(),
  groups: z.array(groupNameSchema).optional(),
  approvals: approvalSettingsSchema.optional(),
  terminal: terminalLimitsSchema.optional(),
  ...credentialFields,
});
export type UpdateConnectionInput = z.input<typeof updateConnectionSchema>;

export const DEFAULT_PORTS = { postgres: 5432, ssh: 22 } as const;
