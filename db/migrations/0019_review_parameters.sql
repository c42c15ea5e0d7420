ALTER TABLE "reviews" ADD COLUMN "parameters" jsonb;--> statement-breakpoint
ALTER TABLE "reviews" ADD COLUMN "parameters_hash" text;
