import { withAuth } from "@/server/http/route";
import { deleteRule, ruleInputSchema, updateRule } from "@/server/policy";
import { actorOf } from "@/server/principal";

export const PUT = withAuth(
  { permission: "policies:manage", body: ruleInputSchema },
  async ({ principal, params, body }) => {
    await updateRule(actorOf(principal), params.id ?? "", body);
    return { ok: true };
  },
);

export const DELETE = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  await deleteRule(actorOf(principal), params.id ?? "");
  return { ok: true };
});
