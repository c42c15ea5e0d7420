CREATE TABLE "audit_stream_cursors" (
	"webhook_id" text PRIMARY KEY NOT NULL,
	"audit_seq" bigint NOT NULL,
	"session_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_stream_cursors" ADD CONSTRAINT "audit_stream_cursors_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE TABLE "scim_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "scim_tokens_hash_key" ON "scim_tokens" USING btree ("token_hash");
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "scim_external_id" text;
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "is_scim_managed" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "scim_external_id" text;
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "is_scim_managed" boolean DEFAULT false NOT NULL;
