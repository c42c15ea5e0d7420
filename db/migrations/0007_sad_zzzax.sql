CREATE TABLE "access_review_campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" jsonb NOT NULL,
	"reviewer_mode" text NOT NULL,
	"reviewer_group_id" text,
	"unused_days" integer DEFAULT 30 NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"created_by" text,
	"created_by_label" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by_label" text,
	"reminded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "access_review_items" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"principal_id" text NOT NULL,
	"principal_label" text NOT NULL,
	"principal_kind" text NOT NULL,
	"connection_id" text NOT NULL,
	"connection_name" text NOT NULL,
	"reviewer_group_id" text,
	"reviewer_group_name" text,
	"evidence" jsonb NOT NULL,
	"decision" text,
	"decided_by" text,
	"decided_by_label" text,
	"decided_at" timestamp with time zone,
	"comment" text DEFAULT '' NOT NULL,
	"effect" jsonb
);
--> statement-breakpoint
CREATE TABLE "access_revocations" (
	"id" text PRIMARY KEY NOT NULL,
	"principal_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"campaign_id" text,
	"campaign_name" text NOT NULL,
	"item_id" text,
	"by_label" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"lifted_at" timestamp with time zone,
	"lifted_by_label" text
);
--> statement-breakpoint
CREATE TABLE "access_rollup_state" (
	"id" text PRIMARY KEY NOT NULL,
	"last_event_id" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_touches" (
	"principal_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "access_touches_principal_id_connection_id_kind_name_pk" PRIMARY KEY("principal_id","connection_id","kind","name")
);
--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "owner_group_id" text;--> statement-breakpoint
ALTER TABLE "access_review_items" ADD CONSTRAINT "access_review_items_campaign_id_access_review_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."access_review_campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_review_campaigns_state_idx" ON "access_review_campaigns" USING btree ("state","created_at");--> statement-breakpoint
CREATE INDEX "access_review_items_campaign_idx" ON "access_review_items" USING btree ("campaign_id","principal_label");--> statement-breakpoint
CREATE INDEX "access_review_items_principal_idx" ON "access_review_items" USING btree ("principal_id");--> statement-breakpoint
CREATE INDEX "access_revocations_pair_idx" ON "access_revocations" USING btree ("principal_id","connection_id");