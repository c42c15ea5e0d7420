import { checkHealth } from "@/server/health";
import { withoutAuth } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = withoutAuth({}, async () => checkHealth());
