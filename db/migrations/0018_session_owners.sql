CREATE TABLE "gateway_processes" (
	"id" text PRIMARY KEY NOT NULL,
	"machine" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "owner_process" text;--> statement-breakpoint
CREATE INDEX "sessions_owner_live_idx" ON "sessions" USING btree ("owner_process") WHERE "sessions"."state" = 'live' AND "sessions"."owner_process" IS NOT NULL;
