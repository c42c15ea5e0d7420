// Proves the OIDC harness is a working identity provider: discovery, the login form, automatic consent,
// the authorization code flow with PKCE, both client secret methods, and the groups claim in the ID
// token and userinfo; also that it runs as a standalone process. Driven with fetch and a cookie jar.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcProviderServer, type StartOidcProviderOptions, startOidcProvider } from "./oidc";

const REDIRECT_URI = "http://localhost:3999/api/auth/callback/oidc";

const options: StartOidcProviderOptions = {
  clientId: "portcullis-console",
  clientSecret: "console-secret",
  redirectUris: [REDIRECT_URI],
  users: [
    {
      sub: "u-ann",
      email: "ann@example.com",
      name: "Ann Admin",
      password: "ann-pw",
      groups: ["admins", "dba"],
    },
    { sub: "u-bob", email: "bob@example.com", name: "Bob Analyst", password: "bob-pw", groups: ["analysts"] },
  ],
};

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  scopes_supported: string[];
  code_challenge_methods_supported: string[];
  token_endpoint_auth_methods_supported: string[];
}

/** A minimal cookie jar: enough of RFC 6265 (name, path, deletion) for one host. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = "/";
      let isExpired = false;
      for (const attribute of attributes) {
        const [key = "", attributeValue = ""] = attribute.split("=");
        if (key.toLowerCase() === "path") path = attributeValue;
        if (key.toLowerCase() === "expires" && Date.parse(attributeValue) <= Date.now()) isExpired = true;
        if (key.toLowerCase() === "max-age" && Number(attributeValue) <= 0) isExpired = true;
      }
      const key = `${name};${path}`;
      if (isExpired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter(
        (cookie) => pathname === cookie.path || pathname.startsWith(`${cookie.path.replace(/\/$/, "")}/`),
      )
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ");
  }
}

async function request(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set("cookie", cookie);
  const response = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.store(response);
  return response;
}

/** Follows redirects until a page to show or a redirect to the client's redirect URI. */
async function follow(
  jar: CookieJar,
  first: Response,
  base: string,
): Promise<{ page?: Response; callback?: URL }> {
  let response = first;
  for (let hops = 0; hops < 20; hops++) {
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return { page: response };
    const next = new URL(location, response.url || base);
    if (next.href.startsWith(REDIRECT_URI)) return { callback: next };
    response = await request(jar, next.href);
  }
  throw new Error("too many redirects");
}

function formAction(html: string, pageUrl: string): string {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the page:\n${html}`);
  return new URL(action.replaceAll("&amp;", "&"), pageUrl).href;
}

function base64url(buffer: Buffer): string {
  return buffer.toString("base64url");
}

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = "", payload = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>,
  };
}

async function verifyJwtSignature(token: string, jwksUri: string): Promise<boolean> {
  const [header = "", payload = "", signature = ""] = token.split(".");
  const { kid } = decodeJwt(token).header;
  const { keys } = (await (await fetch(jwksUri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) return false;
  return verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    createPublicKey({ key: jwk, format: "jwk" }),
    Buffer.from(signature, "base64url"),
  );
}

interface FlowResult {
  idToken: string;
  accessToken: string;
  loginPageHtml?: string;
  nonce: string;
}

/** Drives one authorization code flow with PKCE as a browser and a confidential client would. */
async function signIn(
  discovery: Discovery,
  jar: CookieJar,
  credentials: { login: string; password: string } | undefined,
  clientAuth: "client_secret_basic" | "client_secret_post",
  client = { id: options.clientId, secret: options.clientSecret },
): Promise<FlowResult> {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  const authorizationUrl = new URL(discovery.authorization_endpoint);
  authorizationUrl.search = new URLSearchParams({
    response_type: "code",
    client_id: client.id,
    redirect_uri: REDIRECT_URI,
    scope: "openid email profile groups",
    state,
    nonce,
    code_challenge: base64url(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
  }).toString();

  let result = await follow(jar, await request(jar, authorizationUrl.href), discovery.issuer);
  let loginPageHtml: string | undefined;
  if (result.page) {
    if (!credentials) throw new Error(`expected no login page, got ${result.page.status} ${result.page.url}`);
    loginPageHtml = await result.page.text();
    const response = await request(jar, formAction(loginPageHtml, result.page.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(credentials).toString(),
    });
    result = await follow(jar, response, discovery.issuer);
  }
  if (!result.callback) {
    throw new Error(
      `flow did not reach the redirect URI: ${result.page?.status} ${await result.page?.text()}`,
    );
  }
  const callback = result.callback;
  expect(callback.searchParams.get("error")).toBeNull();
  expect(callback.searchParams.get("state")).toBe(state);
  expect(callback.searchParams.get("iss")).toBe(discovery.issuer);
  const code = callback.searchParams.get("code");
  expect(code).toBeTruthy();

  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: code ?? "",
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (clientAuth === "client_secret_basic") {
    const basic = `${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
  } else {
    body.set("client_id", client.id);
    body.set("client_secret", client.secret);
  }
  const tokenResponse = await fetch(discovery.token_endpoint, { method: "POST", headers, body });
  const tokens = (await tokenResponse.json()) as Record<string, string>;
  expect(tokenResponse.status, JSON.stringify(tokens)).toBe(200);
  const idToken = tokens.id_token;
  const accessToken = tokens.access_token;
  if (!idToken || !accessToken) throw new Error(`token response without tokens: ${JSON.stringify(tokens)}`);
  return { idToken, accessToken, loginPageHtml, nonce };
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  return (await response.json()) as Discovery;
}

describe("startOidcProvider", () => {
  let provider: OidcProviderServer;
  let discovery: Discovery;

  beforeAll(async () => {
    provider = await startOidcProvider(options);
    discovery = await discover(provider.issuer);
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("publishes discovery for an http issuer on 127.0.0.1", () => {
    expect(provider.issuer).toBe(`http://127.0.0.1:${provider.port}`);
    expect(discovery.issuer).toBe(provider.issuer);
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(["openid", "email", "profile", "groups"]),
    );
    expect(discovery.code_challenge_methods_supported).toContain("S256");
    expect(discovery.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["client_secret_basic", "client_secret_post"]),
    );
  });

  it("signs a user in through the login form and issues an ID token with the groups claim", async () => {
    const jar = new CookieJar();
    const flow = await signIn(
      discovery,
      jar,
      { login: "ann@example.com", password: "ann-pw" },
      "client_secret_basic",
    );

    expect(flow.loginPageHtml).toContain('name="login"');
    expect(flow.loginPageHtml).toContain('name="password"');
    expect(flow.loginPageHtml).toMatch(/<button type="submit">Sign in<\/button>/);

    expect(await verifyJwtSignature(flow.idToken, discovery.jwks_uri)).toBe(true);
    const { payload } = decodeJwt(flow.idToken);
    expect(payload).toMatchObject({
      iss: provider.issuer,
      aud: options.clientId,
      sub: "u-ann",
      nonce: flow.nonce,
      email: "ann@example.com",
      email_verified: true,
      name: "Ann Admin",
      groups: ["admins", "dba"],
    });

    const userinfo = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${flow.accessToken}` },
    });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({
      sub: "u-ann",
      email: "ann@example.com",
      groups: ["admins", "dba"],
    });
  });

  it("accepts client_secret_post and reuses the session without a second login", async () => {
    const jar = new CookieJar();
    const first = await signIn(
      discovery,
      jar,
      { login: "bob@example.com", password: "bob-pw" },
      "client_secret_post",
    );
    expect(decodeJwt(first.idToken).payload.groups).toEqual(["analysts"]);

    const second = await signIn(discovery, jar, undefined, "client_secret_post");
    expect(second.loginPageHtml).toBeUndefined();
    expect(decodeJwt(second.idToken).payload.sub).toBe("u-bob");
  });

  it("shows the form again with an error for a wrong password", async () => {
    const jar = new CookieJar();
    const authorizationUrl = new URL(discovery.authorization_endpoint);
    authorizationUrl.search = new URLSearchParams({
      response_type: "code",
      client_id: options.clientId,
      redirect_uri: REDIRECT_URI,
      scope: "openid",
    }).toString();
    const { page } = await follow(jar, await request(jar, authorizationUrl.href), discovery.issuer);
    if (!page) throw new Error("expected the login page");
    const html = await page.text();
    const response = await request(jar, formAction(html, page.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ login: "ann@example.com", password: "wrong" }).toString(),
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain("Invalid email or password.");
  });

  it("rejects a wrong client secret at the token endpoint", async () => {
    const jar = new CookieJar();
    await expect(
      signIn(discovery, jar, { login: "ann@example.com", password: "ann-pw" }, "client_secret_basic", {
        id: options.clientId,
        secret: "not-the-secret",
      }),
    ).rejects.toThrow(/invalid_client/);
  });
});

describe("startOidcProvider with a custom groups claim", () => {
  it("puts the groups under the configured claim name", async () => {
    const provider = await startOidcProvider({ ...options, groupsClaim: "roles" });
    try {
      const discovery = await discover(provider.issuer);
      const flow = await signIn(
        discovery,
        new CookieJar(),
        { login: "u-ann", password: "ann-pw" },
        "client_secret_basic",
      );
      const { payload } = decodeJwt(flow.idToken);
      expect(payload.roles).toEqual(["admins", "dba"]);
      expect(payload.groups).toBeUndefined();
    } finally {
      await provider.stop();
    }
  });
});

describe("oidc.ts as a standalone process", () => {
  let child: ChildProcess | undefined;
  let dir = "";

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints OIDC_ISSUER when ready and serves discovery", async () => {
    dir = await mkdtemp(join(tmpdir(), "ptc-oidc-"));
    const configFile = join(dir, "oidc.json");
    await writeFile(configFile, JSON.stringify(options));
    const started = spawn(
      join(process.cwd(), "node_modules/.bin/tsx"),
      ["test/harness/oidc.ts", "--port", "0", "--config", configFile],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    let stderr = "";
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const issuer = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      started.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        const match = /^OIDC_ISSUER=(\S+)$/m.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      started.once("exit", (code) => reject(new Error(`exited with ${code} before ready:\n${stderr}`)));
    });
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await discover(issuer)).issuer).toBe(issuer);

    const exited = new Promise<number | null>((resolve) => started.once("exit", resolve));
    started.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
