import { startScan } from "@/server/classification";
import { classificationTarget } from "@/server/classification-page";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  const connection = await classificationTarget(principal, params.name ?? "");
  const scan = await startScan(actorOf(principal), connection);
  return Response.json({ scan }, { status: 202 });
});
