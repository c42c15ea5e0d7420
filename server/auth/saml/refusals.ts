/**
 * Why a SAML sign-in was refused: a short code (it travels in the sign-in page's address) and the sentence
 * the page shows. node-saml says why only in its error messages, so they are sorted here into codes, and
 * anything unrecognised is a refusal too (fail closed).
 * Not responsible for deciding (service.ts) or for showing (the sign-in page).
 */
import "server-only";

export const SAML_REFUSALS = {
  not_configured: "SAML sign-in is not configured on this console.",
  metadata:
    "The identity provider's metadata could not be loaded, so its signature cannot be checked. An administrator should check SAML_METADATA_URL or SAML_METADATA_FILE.",
  malformed: "The identity provider's answer is not a SAML response this console can read.",
  signature:
    "The identity provider's signature did not verify: the answer was altered, or signed with a key this console does not trust.",
  expired:
    "The identity provider's answer has expired (or is not valid yet). Sign in again; if it keeps happening, check the clocks of both sides.",
  audience:
    "The assertion was issued for another service: its audience is not this console's entity ID (SAML_ENTITY_ID).",
  recipient: "The assertion was addressed to another sign-in address: its recipient is not this console.",
  replayed: "This assertion was already used. Each SAML answer signs in once: sign in again.",
  unknown_request:
    "The answer does not match a sign-in this console started, or that sign-in is too old. Sign in again.",
  issuer: "The assertion comes from another identity provider than the one configured.",
  status: "The identity provider did not sign you in.",
  no_email: "The identity provider sent no usable email address for this person.",
  disabled: "This account is disabled.",
  handoff: "The single sign-on hand-off expired or was already used. Sign in again.",
} as const;

export type SamlRefusalCode = keyof typeof SAML_REFUSALS;

export class SamlRefusal extends Error {
  constructor(
    readonly code: SamlRefusalCode,
    /** what the library or check said, for the audit log (never shown to the person) */
    readonly detail: string = SAML_REFUSALS[code],
    /** who the answer was for, once known (the audit event's actor label) */
    readonly label?: string,
  ) {
    super(SAML_REFUSALS[code]);
  }
}

const LIBRARY_MESSAGES: [RegExp, SamlRefusalCode][] = [
  [/No response found|Missing SAML assertion|Unknown SAML response|not a valid XML/i, "malformed"],
  [/InResponseTo/i, "unknown_request"],
  [/signature|signed data/i, "signature"],
  [/expired|not yet valid|too old/i, "expired"],
  [/audience/i, "audience"],
  [/issuer/i, "issuer"],
  [/status code|NoPassive|provider returned/i, "status"],
];

/** The refusal for an error node-saml threw while validating a response. */
export function refusalOfLibraryError(err: unknown): SamlRefusal {
  if (err instanceof SamlRefusal) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = LIBRARY_MESSAGES.find(([pattern]) => pattern.test(message))?.[1] ?? "malformed";
  return new SamlRefusal(code, message.slice(0, 300));
}

/** The sentence for a code from the page's address; undefined for anything else. */
export function samlRefusalMessage(code: string): string | undefined {
  return Object.hasOwn(SAML_REFUSALS, code) ? SAML_REFUSALS[code as SamlRefusalCode] : undefined;
}
