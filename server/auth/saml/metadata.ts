/**
 * The identity provider's SAML metadata: read from SAML_METADATA_URL (bounded in time and size) or
 * SAML_METADATA_FILE, and reduced to what sign-in needs: the IdP's entity ID, its single sign-on URL and
 * the certificates it signs with. Kept for a few minutes; a failed refresh keeps nothing, so sign-in refuses
 * (with a clear reason) rather than trust a key it cannot confirm. Metadata signatures are not checked: the
 * metadata's own channel (https, or a file the operator placed) is what vouches for it.
 * Not responsible for validating responses (service.ts) or for the console's own metadata.
 */
import "server-only";
import { readFile } from "node:fs/promises";
import { DOMParser } from "@xmldom/xmldom";
import type { SamlConfig } from "@/server/config";

export interface IdentityProviderMetadata {
  entityId: string;
  ssoUrl: string;
  /** "redirect" (HTTP-Redirect) is preferred; "post" when the IdP offers only HTTP-POST */
  ssoBinding: "redirect" | "post";
  /** PEM certificates the IdP signs with */
  certificates: string[];
}

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const MAX_METADATA_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
const KEEP_MS = 5 * 60_000;

export class SamlMetadataError extends Error {}

function children(parent: Element, ns: string, name: string): Element[] {
  const found: Element[] = [];
  const list = parent.getElementsByTagNameNS(ns, name);
  for (let i = 0; i < list.length; i++) {
    const el = list.item(i);
    if (el) found.push(el);
  }
  return found;
}

function toPem(base64: string): string {
  const body = base64.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw new SamlMetadataError("a signing certificate is not base64");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----`;
}

/** Parses IdP metadata XML (an EntityDescriptor, or the first IdP in an EntitiesDescriptor). */
export function parseIdentityProviderMetadata(xml: string): IdentityProviderMetadata {
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: { error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) },
  }).parseFromString(xml, "text/xml");
  if (errors.length > 0 || !doc.documentElement) {
    throw new SamlMetadataError(`the SAML metadata is not well-formed XML (${errors[0] ?? "empty"})`);
  }
  const descriptor = children(doc.documentElement, MD, "IDPSSODescriptor")[0];
  const entity = descriptor?.parentNode as Element | null | undefined;
  const entityId = entity?.getAttribute("entityID") ?? "";
  if (!descriptor || !entityId) {
    throw new SamlMetadataError(
      "the SAML metadata has no identity provider (IDPSSODescriptor with an entityID)",
    );
  }
  const services = children(descriptor, MD, "SingleSignOnService");
  const redirect = services.find((s) => s.getAttribute("Binding") === REDIRECT);
  const post = services.find((s) => s.getAttribute("Binding") === POST);
  const chosen = redirect ?? post;
  const ssoUrl = chosen?.getAttribute("Location") ?? "";
  if (!/^https?:\/\//.test(ssoUrl)) {
    throw new SamlMetadataError(
      "the SAML metadata names no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding",
    );
  }
  const certificates = children(descriptor, MD, "KeyDescriptor")
    .filter((k) => {
      const use = k.getAttribute("use");
      return !use || use === "signing";
    })
    .flatMap((k) => children(k, DS, "X509Certificate"))
    .map((c) => toPem(c.textContent ?? ""));
  if (certificates.length === 0) {
    throw new SamlMetadataError(
      "the SAML metadata names no signing certificate: signed assertions could not be checked",
    );
  }
  return { entityId, ssoUrl, ssoBinding: redirect ? "redirect" : "post", certificates };
}

async function fetchMetadata(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "follow" });
  } catch (err) {
    throw new SamlMetadataError(
      `the SAML metadata at ${url} could not be fetched (${err instanceof Error ? err.message : "error"})`,
    );
  }
  if (!response.ok) {
    throw new SamlMetadataError(`the SAML metadata at ${url} answered HTTP ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_METADATA_BYTES) {
    throw new SamlMetadataError(`the SAML metadata at ${url} is larger than 1 MiB`);
  }
  return text;
}

let kept: { key: string; at: number; metadata: IdentityProviderMetadata } | undefined;

/** The identity provider's metadata, read at most every few minutes. Throws SamlMetadataError. */
export async function loadIdentityProviderMetadata(config: SamlConfig): Promise<IdentityProviderMetadata> {
  const key = config.metadataUrl ?? config.metadataFile ?? "";
  if (kept && kept.key === key && Date.now() - kept.at < KEEP_MS) return kept.metadata;
  let xml: string;
  if (config.metadataUrl) {
    xml = await fetchMetadata(config.metadataUrl);
  } else {
    try {
      xml = await readFile(config.metadataFile ?? "", "utf8");
    } catch (err) {
      throw new SamlMetadataError(
        `SAML_METADATA_FILE could not be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  const metadata = parseIdentityProviderMetadata(xml);
  kept = { key, at: Date.now(), metadata };
  return metadata;
}

/** Forgets the kept metadata (tests that point the console at another identity provider). */
export function forgetIdentityProviderMetadata(): void {
  kept = undefined;
}
