CREATE TABLE "data_classifications" (
	"id" text PRIMARY KEY NOT NULL,
	"connection_id" text NOT NULL,
	"schema_name" text NOT NULL,
	"table_name" text NOT NULL,
	"column_name" text NOT NULL,
	"sampled_values" integer DEFAULT 0 NOT NULL,
	"sampled_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"learned_values" bigint DEFAULT 0 NOT NULL,
	"learned_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"detected_type" text,
	"confidence" real DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'detected' NOT NULL,
	"type" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "data_classification_settings" (
	"connection_id" text PRIMARY KEY NOT NULL,
	"apply_proposed" boolean DEFAULT false NOT NULL,
	"scan_state" text DEFAULT 'idle' NOT NULL,
	"scan_tables_done" integer DEFAULT 0 NOT NULL,
	"scan_tables_total" integer DEFAULT 0 NOT NULL,
	"scan_tables_skipped" integer DEFAULT 0 NOT NULL,
	"scan_error" text,
	"scan_by" text,
	"scan_started_at" timestamp with time zone,
	"scan_finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "data_classifications" ADD CONSTRAINT "data_classifications_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_classification_settings" ADD CONSTRAINT "data_classification_settings_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "data_classifications_column_key" ON "data_classifications" USING btree ("connection_id","schema_name","table_name","column_name");
