import { handleSamlLogin } from "@/server/auth";
import { withoutAuth } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = withoutAuth({}, async ({ request }) => handleSamlLogin(request));
