/**
 * The SAML routes' replies: the browser is sent to the identity provider, back to the sign-in page with a
 * refusal code, or on to finish the sign-in with its hand-off cookie; the SP metadata is XML. Every reply
 * to a browser is a redirect (303 after a POST) or a page, never JSON, because a person is looking at it.
 * Not responsible for the checks themselves (service.ts).
 */
import "server-only";
import { z } from "zod";
import { getConfig } from "@/server/config";
import { notFound } from "@/server/errors";
import { clientAddressFrom } from "@/server/http/client-address";
import { safeCallbackPath } from "./callback-path";
import { SamlRefusal } from "./refusals";
import { acceptSamlResponse, handoffCookie, serviceProviderMetadata, startSamlSignIn } from "./service";

export const samlPostSchema = z.strictObject({
  SAMLResponse: z.string().max(600 * 1024),
  RelayState: z.string().max(2000).optional(),
});

function signInPage(params: Record<string, string>): string {
  const url = new URL("/signin", getConfig().publicUrl);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function redirect(location: string, status: 302 | 303, setCookie?: string): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (setCookie) headers.append("set-cookie", setCookie);
  return new Response(null, { status, headers });
}

/** GET /api/auth/saml/login?callbackUrl=/path: SP-initiated sign-in. */
export async function handleSamlLogin(request: Request): Promise<Response> {
  const callbackUrl = safeCallbackPath(new URL(request.url).searchParams.get("callbackUrl"));
  try {
    const start = await startSamlSignIn(callbackUrl);
    if ("redirect" in start) return redirect(start.redirect, 302);
    return new Response(start.form, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  } catch (err) {
    if (!(err instanceof SamlRefusal)) throw err;
    return redirect(signInPage({ error: `Saml:${err.code}`, callbackUrl }), 303);
  }
}

/** POST /api/auth/saml/acs: the identity provider's answer (HTTP-POST binding). */
export async function handleSamlAnswer(
  request: Request,
  form: z.output<typeof samlPostSchema>,
): Promise<Response> {
  const outcome = await acceptSamlResponse(form, clientAddressFrom(request.headers));
  if (!outcome.ok) {
    return redirect(signInPage({ error: outcome.code, callbackUrl: outcome.callbackUrl }), 303);
  }
  return redirect(
    signInPage({ saml: "continue", callbackUrl: outcome.callbackUrl }),
    303,
    handoffCookie(outcome.handoff),
  );
}

/** GET /api/auth/saml/metadata: the console's SP metadata, for the identity provider's setup. */
export async function handleServiceProviderMetadata(): Promise<Response> {
  if (!getConfig().saml)
    throw notFound("SAML sign-in is not configured (set SAML_METADATA_URL or SAML_METADATA_FILE)");
  return new Response(serviceProviderMetadata(), {
    headers: { "content-type": "application/samlmetadata+xml; charset=utf-8" },
  });
}
