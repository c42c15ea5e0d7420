import { withAuth } from "@/server/http/route";
import { checkSql } from "@/server/pipeline";
import { checkSchema } from "@/server/pipeline-schema";

export const POST = withAuth(
  { permission: "connections:use", body: checkSchema },
  async ({ principal, params, body }) => checkSql(principal, params.name ?? "", body.input),
);
