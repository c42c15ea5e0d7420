import { withAuth } from "@/server/http/route";
import { createRule, listRules, ruleInputSchema } from "@/server/policy";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "policies:manage" }, async () => ({ rules: await listRules() }));

export const POST = withAuth(
  { permission: "policies:manage", body: ruleInputSchema },
  async ({ principal, body }) =>
    Response.json({ id: await createRule(actorOf(principal), body) }, { status: 201 }),
);
