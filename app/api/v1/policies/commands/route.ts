import { withAuth } from "@/server/http/route";
import { commandRuleInputSchema, createCommandRule, listCommandRules } from "@/server/policy";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "policies:manage" }, async () => ({
  rules: await listCommandRules(),
}));

export const POST = withAuth(
  { permission: "policies:manage", body: commandRuleInputSchema },
  async ({ principal, body }) =>
    Response.json({ id: await createCommandRule(actorOf(principal), body) }, { status: 201 }),
);
