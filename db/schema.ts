/**
 * The console's own store: identities, groups, connections, tokens and the audit log.
 * One schema serves the embedded PGlite store and PostgreSQL; migrations live in db/migrations.
 * Target credentials are stored only as ciphertext (see server/connections/vault.ts).
 */
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** scrypt hash, null for single sign-on users and service accounts */
    passwordHash: text("password_hash"),
    role: text("role", { enum: ["admin", "member"] })
      .notNull()
      .default("member"),
    kind: text("kind", { enum: ["person", "service"] })
      .notNull()
      .default("person"),
    authSource: text("auth_source", { enum: ["local", "oidc", "service"] })
      .notNull()
      .default("local"),
    disabled: boolean("disabled").notNull().default(false),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

export const groups = pgTable(
  "groups",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("groups_name_key").on(t.name)],
);

export const groupMembers = pgTable(
  "group_members",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** "local" memberships are managed in the console; "oidc" ones follow the identity provider's claim */
    source: text("source", { enum: ["local", "oidc"] })
      .notNull()
      .default("local"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user_idx").on(t.userId)],
);

export const connections = pgTable(
  "connections",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["postgres", "ssh"] }).notNull(),
    description: text("description").notNull().default(""),
    host: text("host").notNull(),
    port: integer("port").notNull(),
    database: text("database"),
    username: text("username").notNull(),
    /** AES-256-GCM envelope of { password?, privateKey?, passphrase? } under MASTER_KEY */
    secret: text("secret").notNull(),
    /** driver options (ssl mode, timeouts, row limits) */
    options: jsonb("options").$type<Record<string, unknown>>().notNull().default({}),
    /** SSH host key pinned on first use */
    hostKey: text("host_key"),
    isDemo: boolean("is_demo").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("connections_name_key").on(t.name)],
);

export const connectionGroups = pgTable(
  "connection_groups",
  {
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    groupId: text("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.groupId] })],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** sha256 of the token; the token itself is shown once and never stored */
    tokenHash: text("token_hash").notNull(),
    /** first characters, to recognise a token in lists */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_tokens_hash_key").on(t.tokenHash), index("api_tokens_user_idx").on(t.userId)],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorId: text("actor_id"),
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull().default(""),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("audit_events_at_idx").on(t.at), index("audit_events_action_idx").on(t.action)],
);

export type User = typeof users.$inferSelect;
export type Group = typeof groups.$inferSelect;
export type Connection = typeof connections.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type AuditEvent = typeof auditEvents.$inferSelect;
