import { classificationSettingsSchema, setClassificationSettings } from "@/server/classification";
import { classificationTarget, getClassificationPage } from "@/server/classification-page";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  const connection = await classificationTarget(principal, params.name ?? "");
  return getClassificationPage(connection);
});

export const PUT = withAuth(
  { permission: "policies:manage", body: classificationSettingsSchema },
  async ({ principal, params, body }) => {
    const connection = await classificationTarget(principal, params.name ?? "");
    await setClassificationSettings(actorOf(principal), connection, body);
    return getClassificationPage(connection);
  },
);
