/** Request shapes for identity management, shared by the API, the pages' actions and the admin command line. */
import { z } from "zod";
import { MIN_PASSWORD_LENGTH } from "./passwords";

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: "enter a valid email address" }));
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `the password needs at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, "the password is too long");
export const nameSchema = z
  .string()
  .trim()
  .min(1, "a name is required")
  .max(120, "the name is too long (120 characters at most)");
export const groupNameSchema = z
  .string()
  .trim()
  .min(1, "a group name is required")
  .max(64, "the group name is too long (64 characters at most)")
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:@/-]*$/, "a group name uses letters, digits, spaces and . _ : @ / -");
export const roleSchema = z.enum(["admin", "member"]);

export const createUserSchema = z.strictObject({
  email: emailSchema,
  name: nameSchema.optional(),
  password: passwordSchema,
  role: roleSchema.default("member"),
  groups: z.array(groupNameSchema).default([]),
});
export type CreateUserInput = z.input<typeof createUserSchema>;

export const updateUserSchema = z.strictObject({
  name: nameSchema.optional(),
  role: roleSchema.optional(),
  disabled: z.boolean().optional(),
  password: passwordSchema.optional(),
  groups: z.array(groupNameSchema).optional(),
});
export type UpdateUserInput = z.input<typeof updateUserSchema>;

export const createGroupSchema = z.strictObject({
  name: groupNameSchema,
  description: z.string().trim().max(500).default(""),
});
export type CreateGroupInput = z.input<typeof createGroupSchema>;

/** Roles a service account can hold (server/auth/principal.ts says what each may do). */
export const serviceAccountRoleSchema = z
  .enum(["member", "auditor", "admin"])
  .describe(
    "member: use connections; auditor: read the audit log, sessions and access reviews; admin: everything",
  );

/** The longest an admin-capable service account's token or client secret may live (as in principal.ts). */
export const ADMIN_CREDENTIAL_MAX_DAYS = 90;

const adminExpiry = `an admin service account's credentials must expire: give expiresInDays (at most ${ADMIN_CREDENTIAL_MAX_DAYS})`;

export const createServiceAccountSchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1, "a name is required")
      .max(64)
      .regex(/^[a-z0-9][a-z0-9._-]*$/, "a service account name uses lower-case letters, digits and . _ -"),
    groups: z.array(groupNameSchema).default([]),
    tokenName: z.string().trim().min(1).max(64).default("default"),
    expiresInDays: z.number().int().positive().max(3650).optional(),
    role: serviceAccountRoleSchema.default("member"),
  })
  .refine(
    (v) =>
      v.role !== "admin" || (v.expiresInDays !== undefined && v.expiresInDays <= ADMIN_CREDENTIAL_MAX_DAYS),
    { message: adminExpiry, path: ["expiresInDays"] },
  );
export type CreateServiceAccountInput = z.input<typeof createServiceAccountSchema>;

export const updateServiceAccountSchema = z.strictObject({ role: serviceAccountRoleSchema });

const tokenNameSchema = z.string().trim().min(1).max(64);
const expiresInDaysSchema = z.number().int().positive().max(3650);

export const issueTokenSchema = z.strictObject({
  name: tokenNameSchema.default("token"),
  expiresInDays: expiresInDaysSchema.optional(),
});

/** Longest overlap in which a rotated token still works: one week. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 86_400;

export const rotateTokenSchema = z.strictObject({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_ROTATION_GRACE_SECONDS, "the grace period is at most 7 days (604800 s)")
    .default(0)
    .describe("seconds the old token keeps working; 0 revokes it now"),
});

export const createClientSecretSchema = z.strictObject({
  name: tokenNameSchema.default("client secret"),
  expiresInDays: expiresInDaysSchema.optional(),
});

/** OAuth 2.0 token request (RFC 6749 §4.4.2), form-encoded or JSON; client credentials may come by HTTP Basic. */
export const tokenRequestSchema = z.object({
  grant_type: z.literal("client_credentials"),
  scope: z.string().optional().describe("space-separated permissions to narrow the token to"),
  client_id: z.string().optional().describe("the service account's id, unless sent by HTTP Basic"),
  client_secret: z.string().optional().describe("a client secret (pcs_…), unless sent by HTTP Basic"),
});

export const groupMemberSchema = z.strictObject({ userId: z.string().min(1, "userId is required") });
