import { getConnectionForUse } from "@/server/connections";
import { withAuth } from "@/server/http/route";
import {
  getMaskingSettings,
  maskingSettingsSchema,
  resetMaskingSettings,
  saveMaskingSettings,
} from "@/server/masking-config";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  const connection = await getConnectionForUse(principal, params.name ?? "");
  return { masking: await getMaskingSettings(connection.id) };
});

export const PUT = withAuth(
  { permission: "policies:manage", body: maskingSettingsSchema },
  async ({ principal, params, body }) => {
    const connection = await getConnectionForUse(principal, params.name ?? "");
    await saveMaskingSettings(actorOf(principal), connection, body);
    return { masking: await getMaskingSettings(connection.id) };
  },
);

export const DELETE = withAuth({ permission: "policies:manage" }, async ({ principal, params }) => {
  const connection = await getConnectionForUse(principal, params.name ?? "");
  await resetMaskingSettings(actorOf(principal), connection);
  return { masking: await getMaskingSettings(connection.id) };
});
