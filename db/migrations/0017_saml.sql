CREATE TABLE "saml_assertions" (
	"issuer" text NOT NULL,
	"assertion_id" text NOT NULL,
	"user_id" text REFERENCES "users"("id") ON DELETE cascade,
	"handoff_hash" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"redeemed_at" timestamp with time zone,
	CONSTRAINT "saml_assertions_issuer_assertion_id_pk" PRIMARY KEY("issuer","assertion_id")
);--> statement-breakpoint
CREATE UNIQUE INDEX "saml_assertions_handoff_key" ON "saml_assertions" USING btree ("handoff_hash");--> statement-breakpoint
CREATE INDEX "saml_assertions_expires_idx" ON "saml_assertions" USING btree ("expires_at");--> statement-breakpoint
CREATE TABLE "saml_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
