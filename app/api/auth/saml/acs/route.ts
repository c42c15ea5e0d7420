import { handleSamlAnswer, samlPostSchema } from "@/server/auth";
import { withIdentityProviderForm } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const POST = withIdentityProviderForm({ body: samlPostSchema }, async ({ request, body }) =>
  handleSamlAnswer(request, body),
);
