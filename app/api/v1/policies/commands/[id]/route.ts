import { withAuth } from "@/server/http/route";
import { commandRuleInputSchema, deleteCommandRule, updateCommandRule } from "@/server/policy";
import { actorOf } from "@/server/principal";

export const PUT = withAuth(
  { permission: "policies:manage", body: commandRuleInputSchema },
  async ({ principal, params, body }) => {
    await updateCommandRule(actorOf(principal), params.id ?? "", body);
    return { ok: true };
  },
);

export const DELETE = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  await deleteCommandRule(actorOf(principal), params.id ?? "");
  return { ok: true };
});
