ALTER TABLE "command_rules" ADD COLUMN "approver_groups" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "command_rules" ADD COLUMN "approvals_required" integer;--> statement-breakpoint
ALTER TABLE "policy_rules" ADD COLUMN "approver_groups" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "policy_rules" ADD COLUMN "approvals_required" integer;--> statement-breakpoint
ALTER TABLE "reviews" ADD COLUMN "approver_groups" jsonb DEFAULT '[]'::jsonb NOT NULL;