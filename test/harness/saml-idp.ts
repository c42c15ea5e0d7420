// A real SAML 2.0 identity provider for tests of SAML sign-in, in its own process: metadata at /metadata, the
// HTTP-Redirect single sign-on endpoint with a plain login form, and answers posted back to the service
// provider with the HTTP-POST binding (an auto-submitting form), each assertion signed with xml-crypto
// (RSA-SHA256, exclusive c14n) by a key made with openssl at start. For attack tests, /idp-initiated makes
// an unsolicited answer in one of several broken shapes (tampered, expired, another audience, ...).
//   npx tsx test/harness/saml-idp.ts --config <json file>   -> prints SAML_METADATA_URL=<url> when ready
// Not for production: keys and pending requests live in memory and the IdP is plain http.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { SignedXml } from "xml-crypto";
import { cleanupOnExit } from "./free-port";

export interface SamlIdpUser {
  email: string;
  name: string;
  password: string;
  groups: string[];
}

export interface SamlIdpOptions {
  /** the service provider's entity ID (the audience of every good answer) */
  spEntityId: string;
  /** the service provider's assertion consumer service (recipient and form target) */
  acsUrl: string;
  users: SamlIdpUser[];
  /** attribute that carries the groups; default "groups" */
  groupsAttribute?: string;
}

/** Shapes of an unsolicited answer: "good", or one broken in one way. */
export const ANSWER_VARIANTS = [
  "good",
  "tampered",
  "expired",
  "not-yet-valid",
  "wrong-audience",
  "wrong-recipient",
  "wrong-destination",
  "unsigned",
  "other-key",
  "signed-response-only",
  "wrong-issuer",
  "unknown-request",
  "wrapped",
] as const;
export type AnswerVariant = (typeof ANSWER_VARIANTS)[number];

interface Keys {
  privateKey: string;
  cert: string;
}

const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

function makeKeys(): Keys {
  const dir = mkdtempSync(path.join(tmpdir(), "saml-idp-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=portcullis-test-idp",
        "-days",
        "2",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return {
      privateKey: readFileSync(path.join(dir, "key.pem"), "utf8"),
      cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function certBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function metadataXml(entityId: string, ssoUrl: string, keys: Keys): string {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(entityId)}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certBody(keys.cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface AnswerSpec {
  issuer: string;
  user: SamlIdpUser;
  audience: string;
  recipient: string;
  destination: string;
  inResponseTo?: string;
  groupsAttribute: string;
  notBefore: number;
  notOnOrAfter: number;
  issueInstant: number;
}

function responseXml(spec: AnswerSpec, assertionId: string): string {
  const inResponseTo = spec.inResponseTo ? ` InResponseTo="${escapeXml(spec.inResponseTo)}"` : "";
  const groups = spec.user.groups
    .map((g) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(g)}</saml:AttributeValue>`)
    .join("");
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_${randomUUID()}" Version="2.0" IssueInstant="${iso(spec.issueInstant)}" Destination="${escapeXml(spec.destination)}"${inResponseTo}><saml:Issuer>${escapeXml(spec.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${assertionId}" Version="2.0" IssueInstant="${iso(spec.issueInstant)}"><saml:Issuer>${escapeXml(spec.issuer)}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${escapeXml(spec.user.email)}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${iso(spec.notOnOrAfter)}" Recipient="${escapeXml(spec.recipient)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${iso(spec.notBefore)}" NotOnOrAfter="${iso(spec.notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${escapeXml(spec.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${iso(spec.issueInstant)}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">${escapeXml(spec.user.email)}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="displayName"><saml:AttributeValue xsi:type="xs:string">${escapeXml(spec.user.name)}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="${escapeXml(spec.groupsAttribute)}">${groups}</saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>`;
}

/** Signs the element `local` (Assertion or Response) in place, the signature right after its Issuer. */
function sign(xml: string, local: "Assertion" | "Response", keys: Keys): string {
  const sig = new SignedXml({
    privateKey: keys.privateKey,
    publicCert: keys.cert,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: `//*[local-name(.)='${local}']`,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: SHA256,
  });
  sig.computeSignature(xml, {
    location: { reference: `//*[local-name(.)='${local}']/*[local-name(.)='Issuer']`, action: "after" },
  });
  return sig.getSignedXml();
}

/** A signed answer in the given shape, base64 as the HTTP-POST binding carries it. */
function makeAnswer(
  variant: AnswerVariant,
  base: Omit<AnswerSpec, "notBefore" | "notOnOrAfter" | "issueInstant">,
  keys: Keys,
  otherKeys: () => Keys,
): string {
  const now = Date.now();
  const spec: AnswerSpec = {
    ...base,
    issueInstant: now,
    notBefore: now - 30_000,
    notOnOrAfter: now + 300_000,
  };
  if (variant === "expired") {
    spec.issueInstant = now - 3_600_000;
    spec.notBefore = now - 3_600_000;
    spec.notOnOrAfter = now - 3_000_000;
  }
  if (variant === "not-yet-valid") {
    spec.notBefore = now + 3_600_000;
    spec.notOnOrAfter = now + 3_900_000;
  }
  if (variant === "wrong-audience") spec.audience = "https://another-service.example/saml";
  if (variant === "wrong-recipient") spec.recipient = "https://another-service.example/acs";
  if (variant === "wrong-destination") spec.destination = "https://another-service.example/acs";
  if (variant === "wrong-issuer") spec.issuer = "https://impostor-idp.example/";
  if (variant === "unknown-request") spec.inResponseTo = `_never-sent-${randomUUID()}`;
  let xml = responseXml(spec, `_${randomUUID()}`);
  if (variant === "signed-response-only") xml = sign(xml, "Response", keys);
  else if (variant === "other-key") xml = sign(xml, "Assertion", otherKeys());
  else if (variant !== "unsigned") xml = sign(xml, "Assertion", keys);
  if (variant === "wrapped") {
    // Signature wrapping: the signed assertion is tucked into the response's Extensions, and an unsigned copy
    // that names someone else (and the admins group) takes its place where a reader looks for it.
    const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? "";
    const forged = signed
      .replace(/<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/, "")
      .replaceAll(escapeXml(base.user.email), "admin@example.com")
      .replace(/>[^<]*(<\/saml:AttributeValue><\/saml:Attribute><\/saml:AttributeStatement>)/, ">admins$1");
    if (forged.includes("Signature") || !forged.includes("admin@example.com")) {
      throw new Error("the wrapping attack could not be built");
    }
    xml = xml
      .replace(signed, forged)
      .replace("<samlp:Status>", `<samlp:Extensions>${signed}</samlp:Extensions><samlp:Status>`);
  }
  if (variant === "tampered") {
    // After signing: the person swaps their last group for one the identity provider never gave them.
    const tampered = xml.replace(
      />[^<]*(<\/saml:AttributeValue><\/saml:Attribute><\/saml:AttributeStatement>)/,
      ">admins$1",
    );
    if (tampered === xml) throw new Error("tampering found nothing to change");
    xml = tampered;
  }
  return Buffer.from(xml, "utf8").toString("base64");
}

function postForm(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeXml(k)}" value="${escapeXml(v)}">`)
    .join("");
  return `<!doctype html><html><body><form method="post" action="${escapeXml(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form><script>document.forms[0].submit()</script></body></html>`;
}

function loginPage(requestId: string, relayState: string, error?: string): string {
  return `<!doctype html><html><head><title>Test IdP sign-in</title></head><body><h1>Test SAML IdP</h1>${error ? `<p role="alert">${escapeXml(error)}</p>` : ""}<form method="post" action="/login"><input type="hidden" name="requestId" value="${escapeXml(requestId)}"><input type="hidden" name="relayState" value="${escapeXml(relayState)}"><label>Email <input name="email" type="email"></label><label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

/** Runs the identity provider in this process; the URL of its metadata. */
export async function serveSamlIdp(
  options: SamlIdpOptions,
  port = 0,
): Promise<{ metadataUrl: string; close(): void }> {
  const keys = makeKeys();
  let other: Keys | undefined;
  const otherKeys = () => {
    other ??= makeKeys();
    return other;
  };
  const groupsAttribute = options.groupsAttribute ?? "groups";
  let base = "";
  const pending = new Map<string, string>();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", base);
      const entityId = `${base}/metadata`;
      const answerBase = (user: SamlIdpUser, inResponseTo?: string) => ({
        issuer: entityId,
        user,
        audience: options.spEntityId,
        recipient: options.acsUrl,
        destination: options.acsUrl,
        groupsAttribute,
        ...(inResponseTo ? { inResponseTo } : {}),
      });
      if (req.method === "GET" && url.pathname === "/metadata") {
        return send(res, 200, "application/samlmetadata+xml", metadataXml(entityId, `${base}/sso`, keys));
      }
      if (req.method === "GET" && url.pathname === "/sso") {
        const request = url.searchParams.get("SAMLRequest") ?? "";
        const xml = inflateRawSync(Buffer.from(request, "base64")).toString("utf8");
        const id = /\sID="([^"]+)"/.exec(xml)?.[1];
        if (!id) return send(res, 400, "text/plain", "no AuthnRequest ID");
        pending.set(id, xml);
        return send(res, 200, "text/html", loginPage(id, url.searchParams.get("RelayState") ?? ""));
      }
      if (req.method === "POST" && url.pathname === "/login") {
        const form = await readForm(req);
        const requestId = form.get("requestId") ?? "";
        const relayState = form.get("relayState") ?? "";
        const user = options.users.find((u) => u.email === form.get("email"));
        if (!user || user.password !== form.get("password")) {
          return send(res, 200, "text/html", loginPage(requestId, relayState, "Wrong email or password"));
        }
        if (!pending.delete(requestId)) return send(res, 400, "text/plain", "unknown request");
        const answer = makeAnswer("good", answerBase(user, requestId), keys, otherKeys);
        return send(
          res,
          200,
          "text/html",
          postForm(options.acsUrl, { SAMLResponse: answer, RelayState: relayState }),
        );
      }
      if (req.method === "GET" && url.pathname === "/idp-initiated") {
        const variant = (url.searchParams.get("variant") ?? "good") as AnswerVariant;
        const user = options.users.find((u) => u.email === url.searchParams.get("email"));
        if (!user || !ANSWER_VARIANTS.includes(variant))
          return send(res, 400, "text/plain", "unknown user or variant");
        // ?groups=a,b: the person's groups changed at the identity provider since the last sign-in.
        const groups = url.searchParams.get("groups");
        const who = groups === null ? user : { ...user, groups: groups.split(",").filter(Boolean) };
        const answer = makeAnswer(variant, answerBase(who), keys, otherKeys);
        const fields: Record<string, string> = { SAMLResponse: answer };
        const relay = url.searchParams.get("RelayState");
        if (relay) fields.RelayState = relay;
        return send(res, 200, "text/html", postForm(options.acsUrl, fields));
      }
      send(res, 404, "text/plain", "not found");
    } catch (err) {
      send(res, 500, "text/plain", err instanceof Error ? err.message : "error");
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    metadataUrl: `${base}/metadata`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface SamlIdpProcess {
  metadataUrl: string;
  /** the IdP's base URL (metadata, /sso, /idp-initiated) */
  url: string;
  stop(): Promise<void>;
}

/** Starts the identity provider as its own process; resolves when it prints its metadata URL. */
export async function startSamlIdp(options: SamlIdpOptions): Promise<SamlIdpProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "saml-idp-config-"));
  const configFile = path.join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(options));
  const root = path.resolve(import.meta.dirname, "../..");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--config", configFile],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const unregister = cleanupOnExit(() => child.kill("SIGKILL"));
  const metadataUrl = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`the SAML IdP did not start: ${err}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /SAML_METADATA_URL=(\S+)/.exec(out);
      if (found?.[1]) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the SAML IdP exited with ${code}: ${err}`));
    });
  });
  return {
    metadataUrl,
    url: metadataUrl.replace(/\/metadata$/, ""),
    async stop() {
      unregister();
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const configIndex = process.argv.indexOf("--config");
  const file = process.argv[configIndex + 1];
  if (configIndex < 0 || !file) {
    console.error("usage: saml-idp.ts --config <json file>");
    process.exit(2);
  }
  const options = JSON.parse(readFileSync(file, "utf8")) as SamlIdpOptions;
  const portIndex = process.argv.indexOf("--port");
  const idp = await serveSamlIdp(options, portIndex > 0 ? Number(process.argv[portIndex + 1]) : 0);
  process.on("SIGTERM", () => {
    idp.close();
    process.exit(0);
  });
  console.log(`SAML_METADATA_URL=${idp.metadataUrl}`);
}
