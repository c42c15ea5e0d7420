CREATE TABLE "terminal_presence" (
	"session_id" text PRIMARY KEY NOT NULL,
	"process_id" text NOT NULL,
	"host" text NOT NULL,
	"username" text NOT NULL,
	"cols" integer NOT NULL,
	"rows" integer NOT NULL,
	"last_input_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "terminal_presence" ADD CONSTRAINT "terminal_presence_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;