/**
 * The console's own store: identities, groups, connections, tokens and the audit log.
 * One schema serves the embedded PGlite store and PostgreSQL; migrations live in db/migrations.
 * Target credentials are stored only as ciphertext (see server/connections/vault.ts).
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
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
    /** people are admins or members; a service account may also be an auditor (server/auth/principal.ts) */
    role: text("role", { enum: ["admin", "auditor", "member"] })
      .notNull()
      .default("member"),
    kind: text("kind", { enum: ["person", "service"] })
      .notNull()
      .default("person"),
    authSource: text("auth_source", { enum: ["local", "oidc", "saml", "service"] })
      .notNull()
      .default("local"),
    disabled: boolean("disabled").notNull().default(false),
    /**
     * Console sessions carry the epoch they were signed in under; raising it (sign-out, password, role,
     * disable, "sign out everywhere") ends every session of the person at once (server/auth/sessions.ts).
     */
    sessionEpoch: integer("session_epoch").notNull().default(0),
    /** the identity provider's id for the person (SCIM externalId), when provisioned by SCIM */
    scimExternalId: text("scim_external_id"),
    /** created or last changed by the identity provider over SCIM (server/scim) */
    isScimManaged: boolean("is_scim_managed").notNull().default(false),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

/**
 * Failed sign-ins per key ("account:<email>" or "address:<ip>"), shared by every replica: each failure past
 * a few free ones delays the next attempt a little longer, up to a cap (server/auth/sign-in-throttle.ts).
 */
export const signInFailures = pgTable("sign_in_failures", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull().default(0),
  blockedUntil: timestamp("blocked_until", { withTimezone: true }),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true }).notNull().defaultNow(),
});

export const groups = pgTable(
  "groups",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** the identity provider's id for the group (SCIM externalId) */
    scimExternalId: text("scim_external_id"),
    /** created by the identity provider over SCIM: its members follow the provider's */
    isScimManaged: boolean("is_scim_managed").notNull().default(false),
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
    /**
     * "local" memberships are managed in the console; "oidc" and "saml" ones follow the identity provider's claim
     * at sign-in; "scim" ones follow the identity provider's provisioning calls (server/scim)
     */
    source: text("source", { enum: ["local", "oidc", "saml", "scim"] })
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
    /** the group whose members review this connection's access in access reviews; null: admins */
    ownerGroupId: text("owner_group_id"),
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
    /** set on short-lived access tokens minted with a client secret (OAuth 2.0 client credentials) */
    clientSecretId: text("client_secret_id").references(() => clientSecrets.id, { onDelete: "cascade" }),
    /** permissions an access token is narrowed to (OAuth scope); null: the account's own */
    scopes: jsonb("scopes").$type<string[]>(),
  },
  (t) => [
    uniqueIndex("api_tokens_hash_key").on(t.tokenHash),
    index("api_tokens_user_idx").on(t.userId),
    index("api_tokens_client_secret_idx").on(t.clientSecretId),
  ],
);

/** A service account's OAuth 2.0 client secrets: shown once, stored as SHA-256, revocable; they mint access tokens. */
export const clientSecrets = pgTable(
  "client_secrets",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    secretHash: text("secret_hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("client_secrets_hash_key").on(t.secretHash),
    index("client_secrets_user_idx").on(t.userId),
  ],
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
    /** position in the audit log's hash chain (1..n); null for events recorded before chaining existed */
    seq: bigint("seq", { mode: "number" }),
    /** sha256 over the previous event's hash, seq and this event's content (server/integrity/hash-chain.ts) */
    hash: text("hash"),
  },
  (t) => [
    index("audit_events_at_idx").on(t.at),
    index("audit_events_action_idx").on(t.action),
    uniqueIndex("audit_events_seq_key").on(t.seq),
  ],
);

/** The audit log's chain head: one row (id 1), updated with every append, so appends serialize on it. */
export const auditChain = pgTable("audit_chain", {
  id: integer("id").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
});

export type User = typeof users.$inferSelect;
export type Group = typeof groups.$inferSelect;
export type Connection = typeof connections.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type ClientSecret = typeof clientSecrets.$inferSelect;
export type AuditEvent = typeof auditEvents.$inferSelect;

/** A session: one person's or service's use of one connection (an editor tab, an API conversation, a terminal). */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    principalId: text("principal_id"),
    principalLabel: text("principal_label").notNull(),
    principalKind: text("principal_kind", { enum: ["person", "service"] }).notNull(),
    connectionId: text("connection_id"),
    connectionName: text("connection_name").notNull(),
    kind: text("kind", { enum: ["sql", "terminal"] }).notNull(),
    channel: text("channel", { enum: ["editor", "api", "mcp", "native", "terminal"] }).notNull(),
    state: text("state", { enum: ["live", "ended", "failed"] })
      .notNull()
      .default("live"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastActivityAt: timestamp("last_activity_at", { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    statements: integer("statements").notNull().default(0),
    allowed: integer("allowed").notNull().default(0),
    held: integer("held").notNull().default(0),
    blocked: integer("blocked").notNull().default(0),
    maskedFields: integer("masked_fields").notNull().default(0),
    /** the session's hash chain head: the last event's seq and hash (appends serialize on this row) */
    eventSeq: integer("event_seq").notNull().default(0),
    chainHead: text("chain_head").notNull().default(""),
    /** the console process holding a live native or terminal session (gateway_processes); null for others */
    ownerProcess: text("owner_process"),
  },
  (t) => [
    // The list's order (newest first, id breaks ties) and its keyset pages (server/recording/sessions-query.ts).
    index("sessions_started_idx").on(t.startedAt, t.id),
    index("sessions_principal_idx").on(t.principalId, t.startedAt),
    index("sessions_connection_idx").on(t.connectionId, t.startedAt),
    index("sessions_connection_name_idx").on(t.connectionName, t.startedAt),
    // The sweep's question: which live sessions does a stopped process still hold?
    index("sessions_owner_live_idx")
      .on(t.ownerProcess)
      .where(sql`${t.state} = 'live' AND ${t.ownerProcess} IS NOT NULL`),
  ],
);

/**
 * Console processes sharing the store, each beating a heartbeat while it runs (server/recording/liveness.ts).
 * A live session whose owner stopped beating was lost with that process.
 */
export const gatewayProcesses = pgTable("gateway_processes", {
  id: text("id").primaryKey(),
  /** host name and PID namespace: processes with the same one can see each other's PIDs */
  machine: text("machine").notNull(),
  pid: integer("pid").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

/** What happened in a session, in order: statements with their decisions and masked results, output, input. */
export const sessionEvents = pgTable(
  "session_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    type: text("type").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /** position in the session's hash chain (1..n); null for events recorded before chaining existed */
    seq: integer("seq"),
    /** sha256 over the previous event's hash, seq and this event's content (server/integrity/hash-chain.ts) */
    hash: text("hash"),
  },
  (t) => [
    index("session_events_session_idx").on(t.sessionId, t.id),
    uniqueIndex("session_events_session_seq_key").on(t.sessionId, t.seq),
    index("session_events_session_type_idx").on(t.sessionId, t.type),
    // A replay's seek: the latest keyframe at or before a time, in one index probe (server/terminal/replay.ts).
    index("session_events_keyframe_idx")
      .on(t.sessionId, sql`((data->>'t')::float8)`)
      .where(sql`type = 'keyframe'`),
  ],
);

/**
 * The sessions list's text search (decision 0026): the text of each statement and command event, written off the
 * append's path by the search indexer (server/recording/search-index.ts), which follows session_events by id and
 * keeps its watermark in access_rollup_state (id "session_search"). Events above the watermark are searched in
 * session_events directly. Not part of the record: the hash chain covers session_events alone.
 */
export const sessionSearch = pgTable(
  "session_search",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" }).notNull(),
    text: text("text").notNull(),
  },
  (t) => [
    // Session first: the one b-tree serves the cascade from sessions and keeps one row per event.
    primaryKey({ columns: [t.sessionId, t.eventId] }),
    index("session_search_text_trgm_idx").using("gin", t.text.op("gin_trgm_ops")),
  ],
);

/**
 * Browser terminals open now, one row per live terminal, kept by the console process that runs it: a heartbeat
 * says it is still there, so every replica can list them and a crashed process's rows go stale.
 */
export const terminalPresence = pgTable("terminal_presence", {
  sessionId: text("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  processId: text("process_id").notNull(),
  host: text("host").notNull(),
  username: text("username").notNull(),
  cols: integer("cols").notNull(),
  rows: integer("rows").notNull(),
  lastInputAt: timestamp("last_input_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

/** A request held for approval: the exact input, why it was held, and its state. */
export const reviews = pgTable(
  "reviews",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id").references(() => sessions.id, { onDelete: "set null" }),
    requesterId: text("requester_id").notNull(),
    requesterLabel: text("requester_label").notNull(),
    connectionId: text("connection_id").notNull(),
    connectionName: text("connection_name").notNull(),
    input: text("input").notNull(),
    inputHash: text("input_hash").notNull(),
    class: text("class").notNull(),
    reasons: jsonb("reasons").$type<unknown[]>().notNull(),
    note: text("note").notNull().default(""),
    channel: text("channel").notNull().default("api"),
    /** a held statement's parameter values ($1, $2...) as recorded: masked; the values themselves are not kept */
    parameters: jsonb("parameters").$type<(string | null)[]>(),
    /** keyed hash (HMAC under MASTER_KEY) of the exact values: a re-sent statement runs only with those */
    parametersHash: text("parameters_hash"),
    approvalsRequired: integer("approvals_required").notNull().default(1),
    /** who may approve, fixed when the review is created (the matching rules' groups, else the connection's) */
    approverGroups: jsonb("approver_groups").$type<string[]>().notNull().default([]),
    /** every decision: who, when, approve or deny, comment */
    decisions: jsonb("decisions")
      .$type<{ by: string; byLabel: string; at: string; decision: "approve" | "deny"; comment: string }[]>()
      .notNull()
      .default([]),
    state: text("state", {
      enum: ["pending", "approved", "denied", "expired", "cancelled", "executed", "failed"],
    })
      .notNull()
      .default("pending"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
  },
  (t) => [
    index("reviews_state_idx").on(t.state, t.createdAt),
    index("reviews_requester_idx").on(t.requesterId),
  ],
);

export type Session = typeof sessions.$inferSelect;
export type SessionEvent = typeof sessionEvents.$inferSelect;
export type Review = typeof reviews.$inferSelect;

/** Policy rules an admin edits; the built-in defaults apply where none of these matches. */
export const policyRules = pgTable(
  "policy_rules",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    connectionId: text("connection_id").references(() => connections.id, { onDelete: "cascade" }),
    groups: jsonb("groups").$type<string[]>().notNull().default([]),
    classes: jsonb("classes").$type<string[]>().notNull().default([]),
    tables: jsonb("tables").$type<string[]>().notNull().default([]),
    functions: jsonb("functions").$type<string[]>().notNull().default([]),
    /** masked-column patterns: the rule decides statements that filter, join, group or order on them */
    columns: jsonb("columns").$type<string[]>().notNull().default([]),
    action: text("action", { enum: ["allow", "review", "deny"] }).notNull(),
    message: text("message").notNull().default(""),
    /** for review rules: who approves (group names; empty = the connection's approvers) and how many must */
    approverGroups: jsonb("approver_groups").$type<string[]>().notNull().default([]),
    approvalsRequired: integer("approvals_required"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("policy_rules_connection_idx").on(t.connectionId)],
);

export type PolicyRuleRow = typeof policyRules.$inferSelect;

/** Terminal command rules: a pattern over the command line about to run, and what to do with it. */
export const commandRules = pgTable(
  "command_rules",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    connectionId: text("connection_id").references(() => connections.id, { onDelete: "cascade" }),
    groups: jsonb("groups").$type<string[]>().notNull().default([]),
    /** "regex" matches the whole command line; "command" matches a parsed command name (e.g. shutdown, kubectl delete) */
    matchKind: text("match_kind", { enum: ["regex", "command"] }).notNull(),
    pattern: text("pattern").notNull(),
    action: text("action", { enum: ["allow", "review", "deny"] }).notNull(),
    message: text("message").notNull().default(""),
    /** for review rules: who approves (group names; empty = the connection's approvers) and how many must */
    approverGroups: jsonb("approver_groups").$type<string[]>().notNull().default([]),
    approvalsRequired: integer("approvals_required"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("command_rules_connection_idx").on(t.connectionId)],
);

export type CommandRuleRow = typeof commandRules.$inferSelect;

/** A connection's masking settings (types on, styles, column rules); absent means the shipped defaults. */
export const maskingSettings = pgTable("masking_settings", {
  connectionId: text("connection_id")
    .primaryKey()
    .references(() => connections.id, { onDelete: "cascade" }),
  settings: jsonb("settings")
    .$type<{
      enabledTypes?: string[];
      styles?: Record<string, "full" | "partial" | "pseudonym">;
      defaultStyle: "full" | "partial" | "pseudonym";
      columnRules: { pattern: string; type: string }[];
    }>()
    .notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Time-boxed access to a connection, granted through a review; ends by itself at expiresAt. */
export const accessGrants = pgTable(
  "access_grants",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    reason: text("reason").notNull().default(""),
    durationMinutes: integer("duration_minutes").notNull(),
    state: text("state", { enum: ["pending", "active", "denied", "expired", "revoked", "cancelled"] })
      .notNull()
      .default("pending"),
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull().defaultNow(),
    decidedBy: text("decided_by"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    startsAt: timestamp("starts_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    comment: text("comment").notNull().default(""),
  },
  (t) => [
    index("access_grants_user_idx").on(t.userId, t.state),
    index("access_grants_connection_idx").on(t.connectionId),
  ],
);

/** Endpoints that hear about reviews; the signing secret is sealed under MASTER_KEY like connection credentials. */
export const webhooks = pgTable("webhooks", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** AES-256-GCM envelope of { password: <signing secret> }, associated data `webhook:<id>` */
  secret: text("secret").notNull(),
  events: jsonb("events").$type<string[]>().notNull().default([]),
  format: text("format", { enum: ["json", "slack"] })
    .notNull()
    .default("json"),
  enabled: boolean("enabled").notNull().default(true),
  createdAt: createdAt(),
});

export type AccessGrant = typeof accessGrants.$inferSelect;
export type Webhook = typeof webhooks.$inferSelect;

/**
 * One event owed to one endpoint: written when the event happens, so a delivery survives a restart and any
 * replica may send it. `nextAttemptAt` is also the lease of the replica sending it (pushed past the attempt's
 * timeout when claimed), so a replica that dies mid-attempt leaves the delivery to be tried again.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    /** the exact body sent (and signed at each attempt) */
    body: text("body").notNull(),
    state: text("state", { enum: ["pending", "delivered", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** why the last attempt did not succeed (a status or a network error; never the URL) */
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.state, t.nextAttemptAt),
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

/** An access review campaign: what it covers, who reviews, until when. */
export const accessReviewCampaigns = pgTable(
  "access_review_campaigns",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** connection and group ids the campaign covers (empty lists with both empty: everything) */
    scope: jsonb("scope").$type<{ connectionIds: string[]; groupIds: string[] }>().notNull(),
    /** "group": members of reviewerGroupId review every item; "owners": each connection's owner group (or admins) */
    reviewerMode: text("reviewer_mode", { enum: ["group", "owners"] }).notNull(),
    reviewerGroupId: text("reviewer_group_id"),
    unusedDays: integer("unused_days").notNull().default(30),
    dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
    state: text("state", { enum: ["open", "closed"] })
      .notNull()
      .default("open"),
    createdBy: text("created_by"),
    createdByLabel: text("created_by_label").notNull(),
    createdAt: createdAt(),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    closedByLabel: text("closed_by_label"),
    remindedAt: timestamp("reminded_at", { withTimezone: true }),
  },
  (t) => [index("access_review_campaigns_state_idx").on(t.state, t.createdAt)],
);

/** One principal's access to one connection under review, with the evidence shown when the campaign started. */
export const accessReviewItems = pgTable(
  "access_review_items",
  {
    id: text("id").primaryKey(),
    campaignId: text("campaign_id")
      .notNull()
      .references(() => accessReviewCampaigns.id, { onDelete: "cascade" }),
    principalId: text("principal_id").notNull(),
    principalLabel: text("principal_label").notNull(),
    principalKind: text("principal_kind", { enum: ["person", "service"] }).notNull(),
    connectionId: text("connection_id").notNull(),
    connectionName: text("connection_name").notNull(),
    /** who decides: members of this group; null means admins */
    reviewerGroupId: text("reviewer_group_id"),
    reviewerGroupName: text("reviewer_group_name"),
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
    decision: text("decision", { enum: ["keep", "revoke"] }),
    decidedBy: text("decided_by"),
    decidedByLabel: text("decided_by_label"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    comment: text("comment").notNull().default(""),
    /** what a revoke did (grants revoked, paths denied, terminals ended) */
    effect: jsonb("effect").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("access_review_items_campaign_idx").on(t.campaignId, t.principalLabel),
    index("access_review_items_principal_idx").on(t.principalId),
  ],
);

/** Access to a connection taken back in an access review: denies the principal's group paths to it until lifted. */
export const accessRevocations = pgTable(
  "access_revocations",
  {
    id: text("id").primaryKey(),
    principalId: text("principal_id").notNull(),
    connectionId: text("connection_id").notNull(),
    campaignId: text("campaign_id"),
    campaignName: text("campaign_name").notNull(),
    itemId: text("item_id"),
    byLabel: text("by_label").notNull(),
    comment: text("comment").notNull().default(""),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    liftedAt: timestamp("lifted_at", { withTimezone: true }),
    liftedByLabel: text("lifted_by_label"),
  },
  (t) => [index("access_revocations_pair_idx").on(t.principalId, t.connectionId)],
);

/**
 * Which masked types and columns a principal's results touched on a connection (from the masking marks of
 * recorded result events; never values). Kept up to date incrementally from session_events by id.
 */
export const accessTouches = pgTable(
  "access_touches",
  {
    principalId: text("principal_id").notNull(),
    connectionId: text("connection_id").notNull(),
    kind: text("kind", { enum: ["type", "column"] }).notNull(),
    name: text("name").notNull(),
    firstAt: timestamp("first_at", { withTimezone: true }).notNull(),
    lastAt: timestamp("last_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.principalId, t.connectionId, t.kind, t.name] })],
);

/**
 * How far a rollup has read its source: the last session_events id folded in (access_touches) or indexed
 * (session_search).
 */
export const accessRollupState = pgTable("access_rollup_state", {
  id: text("id").primaryKey(),
  lastEventId: bigint("last_event_id", { mode: "number" }).notNull().default(0),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type AccessReviewCampaign = typeof accessReviewCampaigns.$inferSelect;
export type AccessReviewItem = typeof accessReviewItems.$inferSelect;
export type AccessRevocation = typeof accessRevocations.$inferSelect;

/**
 * Discovered sensitive columns of a connection (server/classification): the detector types found in a column's
 * sampled values and in the results masked from it, as counts (never a value), and an admin's decision. A
 * confirmed row (or a proposed one, when the connection applies proposals at once) acts as a column rule.
 */
export const dataClassifications = pgTable(
  "data_classifications",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    schemaName: text("schema_name").notNull(),
    tableName: text("table_name").notNull(),
    columnName: text("column_name").notNull(),
    /** values examined by the last scan that sampled this column, and per type how many held one */
    sampledValues: integer("sampled_values").notNull().default(0),
    sampledCounts: jsonb("sampled_counts").$type<Record<string, number>>().notNull().default({}),
    /** cells of results read from this column, and per type how many were masked as it */
    learnedValues: bigint("learned_values", { mode: "number" }).notNull().default(0),
    learnedCounts: jsonb("learned_counts").$type<Record<string, number>>().notNull().default({}),
    /** the type most found and its share of the values examined (0..1) */
    detectedType: text("detected_type"),
    confidence: real("confidence").notNull().default(0),
    state: text("state", { enum: ["detected", "proposed", "confirmed", "rejected"] })
      .notNull()
      .default("detected"),
    /** the type it is masked as once confirmed (an admin may change it) */
    type: text("type"),
    decidedBy: text("decided_by"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("data_classifications_column_key").on(
      t.connectionId,
      t.schemaName,
      t.tableName,
      t.columnName,
    ),
  ],
);

/** Per connection: whether proposals apply at once, and the last (or running) scan with its progress. */
export const dataClassificationSettings = pgTable("data_classification_settings", {
  connectionId: text("connection_id")
    .primaryKey()
    .references(() => connections.id, { onDelete: "cascade" }),
  applyProposed: boolean("apply_proposed").notNull().default(false),
  scanState: text("scan_state", { enum: ["idle", "running", "done", "failed"] })
    .notNull()
    .default("idle"),
  scanTablesDone: integer("scan_tables_done").notNull().default(0),
  scanTablesTotal: integer("scan_tables_total").notNull().default(0),
  scanTablesSkipped: integer("scan_tables_skipped").notNull().default(0),
  scanError: text("scan_error"),
  scanBy: text("scan_by"),
  scanStartedAt: timestamp("scan_started_at", { withTimezone: true }),
  scanFinishedAt: timestamp("scan_finished_at", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type DataClassification = typeof dataClassifications.$inferSelect;
export type DataClassificationSettings = typeof dataClassificationSettings.$inferSelect;

/**
 * A person's short-lived password for native PostgreSQL clients (server/auth/database-credentials.ts), for one
 * connection. Only a SCRAM-SHA-256 verifier is stored (RFC 5802: salt, iterations, StoredKey, ServerKey); the
 * password itself is shown once. A person's live credentials share one salt, so the listener can offer it
 * before it knows which of them the client holds.
 */
export const databaseCredentials = pgTable(
  "database_credentials",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    connectionId: text("connection_id")
      .notNull()
      .references(() => connections.id, { onDelete: "cascade" }),
    /** first characters, to recognise a credential in lists */
    prefix: text("prefix").notNull(),
    scramSalt: text("scram_salt").notNull(),
    scramIterations: integer("scram_iterations").notNull(),
    storedKey: text("stored_key").notNull(),
    serverKey: text("server_key").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("database_credentials_user_idx").on(t.userId)],
);

/**
 * SAML assertions the console accepted, by issuer and assertion ID, kept until the assertion's own validity
 * ends: the same assertion posted again is a replay (server/auth/saml). The hand-off secret (its SHA-256) lets
 * the browser that posted it finish the sign-in once.
 */
export const samlAssertions = pgTable(
  "saml_assertions",
  {
    issuer: text("issuer").notNull(),
    assertionId: text("assertion_id").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    handoffHash: text("handoff_hash"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    redeemedAt: timestamp("redeemed_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.issuer, t.assertionId] }),
    uniqueIndex("saml_assertions_handoff_key").on(t.handoffHash),
    index("saml_assertions_expires_idx").on(t.expiresAt),
  ],
);

/** IDs of the AuthnRequests the console sent, so that an answer's InResponseTo must name one (and only once). */
export const samlRequests = pgTable("saml_requests", {
  id: text("id").primaryKey(),
  createdAt: createdAt(),
});

/**
 * Where each endpoint subscribed to `audit.event` is in the audit stream (server/audit/stream.ts): advanced in
 * the same transaction that writes the delivery of the lines it passed, so no line is owed twice or never.
 */
export const auditStreamCursors = pgTable("audit_stream_cursors", {
  webhookId: text("webhook_id")
    .primaryKey()
    .references(() => webhooks.id, { onDelete: "cascade" }),
  auditSeq: bigint("audit_seq", { mode: "number" }).notNull(),
  sessionEventId: bigint("session_event_id", { mode: "number" }).notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Bearer tokens an identity provider provisions people and groups with (SCIM 2.0): shown once, stored hashed. */
export const scimTokens = pgTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** sha256 of the token */
    tokenHash: text("token_hash").notNull(),
    prefix: text("prefix").notNull(),
    /** who minted it (an audit label) */
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("scim_tokens_hash_key").on(t.tokenHash)],
);
