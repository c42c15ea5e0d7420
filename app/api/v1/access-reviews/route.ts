import { NextResponse } from "next/server";
import { createCampaign, createCampaignSchema, listCampaigns } from "@/server/access-review";
import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

/** Campaigns I may see: all for auditors, those with items for me for reviewers. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal }) => ({
  campaigns: await listCampaigns(principal),
}));

/** Starts a campaign (admins): { name, connections, groups, reviewers: group|owners, reviewerGroup, dueAt, unusedDays }. */
export const POST = withAuth(
  { permission: "users:manage", body: createCampaignSchema },
  async ({ principal, body }) =>
    NextResponse.json({ campaign: await createCampaign(principal, body) }, { status: 201 }),
);
