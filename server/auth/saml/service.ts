/**
 * SAML 2.0 sign-in with the one identity provider named by SAML_METADATA_URL / SAML_METADATA_FILE, through
 * @node-saml/node-saml: the AuthnRequest (SP-initiated, HTTP-Redirect or HTTP-POST) and the answer posted to the
 * assertion consumer service (SP-initiated or IdP-initiated, HTTP-POST). An answer is accepted only when its
 * assertion is signed by a key in the metadata, names this console as audience and as recipient, is inside its
 * time window, answers a request this console sent (when it says it answers one) and was never accepted before
 * (saml_assertions). The person then gets a one-time hand-off, redeemed by the browser that posted the answer
 * into an ordinary next-auth session (next-auth.ts), so every session check applies to SAML sign-ins too.
 * Not responsible for reading the metadata (metadata.ts), the tables (store.ts) or the session cookie.
 */
import "server-only";
import { createHash, randomBytes } from "node:crypto";
import {
  generateServiceProviderMetadata,
  type SamlConfig as NodeSamlConfig,
  type Profile,
  SAML,
  ValidateInResponseTo,
} from "@node-saml/node-saml";
import { DOMParser } from "@xmldom/xmldom";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { getConfig, type SamlConfig } from "@/server/config";
import { forgiveAddressSignIn, THROTTLED_PREFIX, takeAddressSignInAttempt } from "../sign-in-throttle";
import { findUserByEmail, findUserById } from "../store";
import { upsertOidcUser } from "../users";
import { safeCallbackPath } from "./callback-path";
import { type IdentityProviderMetadata, loadIdentityProviderMetadata, SamlMetadataError } from "./metadata";
import { refusalOfLibraryError, SamlRefusal } from "./refusals";
import { attachUser, recordAssertion, redeemHandoff, storedRequestIds } from "./store";

/** An answer older than this (from its IssueInstant) is refused even when the IdP allowed longer. */
const MAX_ASSERTION_AGE_MS = 10 * 60_000;
/** How long a sign-in this console started may take at the identity provider. */
const REQUEST_LIFETIME_MS = 10 * 60_000;
/** How long the browser has to turn the hand-off into a session. */
export const HANDOFF_LIFETIME_SECONDS = 120;
export const HANDOFF_COOKIE = "portcullis.saml-handoff";
const MAX_RESPONSE_CHARS = 512 * 1024;
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const EMAIL = /^[^\s@<>"]{1,200}@[^\s@<>"]{1,200}$/;

export function samlConfigOrRefuse(): SamlConfig {
  const config = getConfig().saml;
  if (!config) throw new SamlRefusal("not_configured");
  return config;
}

export function assertionConsumerUrl(): string {
  return `${getConfig().publicUrl}/api/auth/saml/acs`;
}

async function metadataOrRefuse(config: SamlConfig): Promise<IdentityProviderMetadata> {
  try {
    return await loadIdentityProviderMetadata(config);
  } catch (err) {
    if (err instanceof SamlMetadataError) {
      console.error(`[portcullis] SAML sign-in refused: ${err.message}`);
      throw new SamlRefusal("metadata", err.message);
    }
    throw err;
  }
}

function samlOf(config: SamlConfig, idp: IdentityProviderMetadata): SAML {
  const options: NodeSamlConfig = {
    issuer: config.entityId,
    audience: config.entityId,
    callbackUrl: assertionConsumerUrl(),
    entryPoint: idp.ssoUrl,
    authnRequestBinding: idp.ssoBinding === "post" ? "HTTP-POST" : "HTTP-Redirect",
    idpCert: idp.certificates,
    idpIssuer: idp.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: config.clockSkewSeconds * 1000,
    maxAssertionAgeMs: MAX_ASSERTION_AGE_MS,
    validateInResponseTo: ValidateInResponseTo.ifPresent,
    requestIdExpirationPeriodMs: REQUEST_LIFETIME_MS,
    cacheProvider: storedRequestIds(REQUEST_LIFETIME_MS),
    identifierFormat: null,
    disableRequestedAuthnContext: true,
  };
  return new SAML(options);
}

/** The console's own SP metadata: entity ID, assertion consumer service, signed assertions wanted. */
export function serviceProviderMetadata(): string {
  const config = samlConfigOrRefuse();
  return generateServiceProviderMetadata({
    issuer: config.entityId,
    callbackUrl: assertionConsumerUrl(),
    wantAssertionsSigned: true,
    identifierFormat: EMAIL_FORMAT,
  });
}

/** SP-initiated sign-in: where to send the browser (HTTP-Redirect), or the auto-submitting form (HTTP-POST). */
export async function startSamlSignIn(
  callbackUrl: string | undefined,
): Promise<{ redirect: string } | { form: string }> {
  const config = samlConfigOrRefuse();
  const idp = await metadataOrRefuse(config);
  const saml = samlOf(config, idp);
  const relay = safeCallbackPath(callbackUrl);
  if (idp.ssoBinding === "post") return { form: await saml.getAuthorizeFormAsync(relay) };
  return { redirect: await saml.getAuthorizeUrlAsync(relay, undefined, {}) };
}

type XmlJs = { $?: Record<string, string>; _?: string; [key: string]: unknown };

function firstOf(value: unknown): XmlJs | undefined {
  return Array.isArray(value) ? (value[0] as XmlJs | undefined) : undefined;
}

/** The verified assertion as node-saml parsed it (xml2js: attributes under `$`, children as arrays). */
function assertionOf(profile: Profile): XmlJs | undefined {
  return (profile.getAssertion?.() as { Assertion?: XmlJs } | undefined)?.Assertion;
}

function listOf(value: unknown): XmlJs[] {
  return Array.isArray(value) ? (value as XmlJs[]) : [];
}

/**
 * Recipient: the signed assertion's bearer confirmation must name this console's assertion consumer service
 * (node-saml does not check it), and the response's Destination, when it says one, too.
 */
function checkRecipient(profile: Profile, responseXml: string, acsUrl: string): void {
  const assertion = assertionOf(profile) ?? {};
  const subject = firstOf(assertion.Subject);
  const recipients = listOf(subject?.SubjectConfirmation)
    .filter((c) => c.$?.Method === BEARER)
    .map((c) => firstOf(c.SubjectConfirmationData)?.$?.Recipient);
  if (recipients.length === 0 || recipients.some((r) => r !== acsUrl)) {
    throw new SamlRefusal(
      "recipient",
      `assertion recipient ${JSON.stringify(recipients).slice(0, 200)} is not ${acsUrl}`,
    );
  }
  const doc = new DOMParser().parseFromString(responseXml, "text/xml");
  const destination = doc.documentElement?.getAttribute("Destination");
  if (destination && destination !== acsUrl) {
    throw new SamlRefusal("recipient", `response destination ${destination.slice(0, 200)} is not ${acsUrl}`);
  }
}

function attributeValues(profile: Profile, name: string): string[] {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  const value = attributes[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === "string");
}

function emailOf(profile: Profile, config: SamlConfig): string {
  const candidates = config.emailAttribute
    ? attributeValues(profile, config.emailAttribute)
    : [
        ...(profile.nameIDFormat === EMAIL_FORMAT || EMAIL.test(profile.nameID ?? "")
          ? [profile.nameID]
          : []),
        ...attributeValues(profile, "email"),
        ...attributeValues(profile, "mail"),
        ...attributeValues(profile, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
        ...attributeValues(profile, "urn:oid:0.9.2342.19200300.100.1.3"),
      ];
  const email = candidates.map((c) => c?.trim() ?? "").find((c) => EMAIL.test(c));
  if (!email) throw new SamlRefusal("no_email", "no email in NameID or attributes");
  return email;
}

function nameOf(profile: Profile, email: string): string {
  for (const attribute of [
    "displayName",
    "name",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "urn:oid:2.16.840.1.113730.3.1.241",
  ]) {
    const [value] = attributeValues(profile, attribute);
    if (value?.trim()) return value.trim().slice(0, 200);
  }
  return email;
}

function hashOf(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export type SamlOutcome =
  | { ok: true; handoff: string; callbackUrl: string }
  | { ok: false; code: string; callbackUrl: string };

/**
 * The assertion consumer service: checks an answer posted by the browser and, when it passes, records it and
 * returns the one-time hand-off secret. Every refusal is audited with its reason; none throws.
 */
export async function acceptSamlResponse(
  form: { SAMLResponse?: string; RelayState?: string },
  address: string,
): Promise<SamlOutcome> {
  const callbackUrl = safeCallbackPath(form.RelayState);
  const actor = { id: null, label: "saml" };
  const attempt = await takeAddressSignInAttempt(address);
  if (!attempt.allowed) {
    return { ok: false, code: `${THROTTLED_PREFIX}${attempt.retryAfterSeconds}`, callbackUrl };
  }
  try {
    const outcome = await checkAndRecord(form);
    await forgiveAddressSignIn(address);
    return { ok: true, handoff: outcome.handoff, callbackUrl };
  } catch (err) {
    const refusal = refusalOfLibraryError(err);
    if (!(err instanceof SamlRefusal) && refusal.code === "malformed") {
      // Not a message node-saml is known to give: kept in the log to tell a bug from a bad answer.
      console.error("[portcullis] SAML answer refused:", refusal.detail);
    }
    const who = refusal.label ? { id: null, label: refusal.label.slice(0, 200) } : actor;
    await recordAuditEvent(who, "auth.signin_failed", "saml", {
      address,
      reason: refusal.code,
      detail: refusal.detail,
    });
    for (const wait of attempt.waits) {
      await recordAuditEvent(actor, "auth.signin_throttled", "saml", { address, ...wait });
    }
    return { ok: false, code: `Saml:${refusal.code}`, callbackUrl };
  }
}

async function checkAndRecord(form: { SAMLResponse?: string }): Promise<{ handoff: string }> {
  const config = samlConfigOrRefuse();
  const encoded = form.SAMLResponse ?? "";
  if (encoded.length === 0 || encoded.length > MAX_RESPONSE_CHARS || !/^[A-Za-z0-9+/=\s]+$/.test(encoded)) {
    throw new SamlRefusal("malformed", "SAMLResponse is missing, too large or not base64");
  }
  const idp = await metadataOrRefuse(config);
  const saml = samlOf(config, idp);
  const { profile, loggedOut } = await saml.validatePostResponseAsync({ SAMLResponse: encoded });
  if (!profile || loggedOut) throw new SamlRefusal("malformed", "not a sign-in response");
  // node-saml checks the issuer of logout messages only: the signed assertion's must be the metadata's entity.
  if (profile.issuer !== idp.entityId) {
    throw new SamlRefusal(
      "issuer",
      `assertion issuer ${String(profile.issuer).slice(0, 200)} is not ${idp.entityId}`,
    );
  }
  checkRecipient(profile, Buffer.from(encoded, "base64").toString("utf8"), assertionConsumerUrl());
  const assertion = assertionOf(profile);
  const assertionId = assertion?.$?.ID;
  if (!assertionId) throw new SamlRefusal("malformed", "the assertion has no ID");
  const email = emailOf(profile, config);
  const db = await getDb();
  const existing = await findUserByEmail(db, email);
  if (existing?.disabled || (existing && existing.kind !== "person")) {
    throw new SamlRefusal("disabled", `account ${email.slice(0, 200)} is disabled`, email);
  }
  const handoff = randomBytes(32).toString("base64url");
  // Replay is checked before the account is touched: a replayed answer changes nothing.
  const recorded = await recordAssertion({
    issuer: idp.entityId,
    assertionId: assertionId.slice(0, 200),
    userId: existing?.id ?? null,
    handoffHash: hashOf(handoff),
    expiresAt: new Date(Date.now() + MAX_ASSERTION_AGE_MS + 2 * config.clockSkewSeconds * 1000),
  });
  if (!recorded) {
    throw new SamlRefusal("replayed", `assertion ${assertionId.slice(0, 100)} was accepted before`, email);
  }
  let userId: string;
  try {
    userId = await upsertOidcUser({
      email,
      name: nameOf(profile, email),
      groups: attributeValues(profile, config.groupsAttribute),
      source: "saml",
    });
  } catch (err) {
    if (err instanceof Error && err.message === "account disabled") {
      throw new SamlRefusal("disabled", `account ${email.slice(0, 200)} is disabled`, email);
    }
    throw err;
  }
  await attachUser(idp.entityId, assertionId.slice(0, 200), userId);
  return { handoff };
}

/** The hand-off secret from a Cookie header, when there is one. */
function handoffFromCookies(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === HANDOFF_COOKIE) return rest.join("=");
  }
  return undefined;
}

/**
 * Turns the hand-off cookie set by the assertion consumer service into the person to sign in (next-auth's
 * "saml" provider), once; null when it is missing, used, too old, or the person was disabled meanwhile.
 */
export async function redeemSamlHandoff(
  cookieHeader: string | undefined,
): Promise<{ id: string; email: string; name: string } | null> {
  const secret = handoffFromCookies(cookieHeader);
  if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const userId = await redeemHandoff(hashOf(secret), HANDOFF_LIFETIME_SECONDS);
  if (!userId) return null;
  const user = await findUserById(await getDb(), userId);
  if (!user || user.disabled || user.kind !== "person") return null;
  return { id: user.id, email: user.email, name: user.name };
}

/** The Set-Cookie header that gives the browser its hand-off (only to next-auth's "saml" callback). */
export function handoffCookie(secret: string): string {
  const secure = getConfig().publicUrl.startsWith("https://") ? "; Secure" : "";
  return `${HANDOFF_COOKIE}=${secret}; Path=/api/auth/callback/saml; Max-Age=${HANDOFF_LIFETIME_SECONDS}; HttpOnly; SameSite=Lax${secure}`;
}
