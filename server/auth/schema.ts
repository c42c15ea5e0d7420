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

export const createUserSchema = z.object({
  email: emailSchema,
  name: nameSchema.optional(),
  password: passwordSchema,
  role: roleSchema.default("member"),
  groups: z.array(groupNameSchema).default([]),
});
export type CreateUserInput = z.input<typeof createUserSchema>;

export const updateUserSchema = z.object({
  name: nameSchema.optional(),
  role: roleSchema.optional(),
  disabled: z.boolean().optional(),
  password: passwordSchema.optional(),
  groups: z.array(groupNameSchema).optional(),
});
export type UpdateUserInput = z.input<typeof updateUserSchema>;

export const createGroupSchema = z.object({
  name: groupNameSchema,
  description: z.string().trim().max(500).default(""),
});
export type CreateGroupInput = z.input<typeof createGroupSchema>;

export const createServiceAccountSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "a name is required")
    .max(64)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, "a service account name uses lower-case letters, digits and . _ -"),
  groups: z.array(groupNameSchema).default([]),
  tokenName: z.string().trim().min(1).max(64).default("default"),
  expiresInDays: z.number().int().positive().max(3650).optional(),
});
export type CreateServiceAccountInput = z.input<typeof createServiceAccountSchema>;
