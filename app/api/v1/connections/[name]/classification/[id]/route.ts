import { classificationDecisionSchema, decideClassification } from "@/server/classification";
import { classificationTarget } from "@/server/classification-page";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth(
  { permission: "policies:manage", body: classificationDecisionSchema },
  async ({ principal, params, body }) => {
    const connection = await classificationTarget(principal, params.name ?? "");
    return {
      classification: await decideClassification(actorOf(principal), connection, params.id ?? "", body),
    };
  },
);
