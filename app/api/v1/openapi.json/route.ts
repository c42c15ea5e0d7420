import { buildOpenApiDocument } from "@/server/http/openapi";
import { withoutAuth } from "@/server/http/route";

export const GET = withoutAuth({}, async () => buildOpenApiDocument());
