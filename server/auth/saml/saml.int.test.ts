// SAML sign-in against a real identity provider in its own process (test/harness/saml-idp.ts: xml-crypto
// signatures, HTTP-Redirect out, HTTP-POST back), through the console's real routes and next-auth, with the
// store in a real PostgreSQL. Each attack is an answer the IdP really produced (or one altered after it
// signed), posted to the assertion consumer service the way a browser posts it; each must be refused with
// the reason the sign-in page shows, and change nothing.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type AnswerVariant, type SamlIdpProcess, startSamlIdp } from "@/test/harness/saml-idp";

const PUBLIC_URL = "http://console.test:3000";
const ACS = `${PUBLIC_URL}/api/auth/saml/acs`;
const ENTITY_ID = `${PUBLIC_URL}/api/auth/saml/metadata`;
const ANA = {
  email: "ana.saml@example.com",
  name: "Ana SAML",
  password: "idp-pass-1",
  groups: ["saml-analysts", "oncall"],
};
const BEN = { email: "ben.saml@example.com", name: "Ben SAML", password: "idp-pass-2", groups: ["saml-ops"] };
const EVE = {
  email: "eve.saml@example.com",
  name: "Eve SAML",
  password: "idp-pass-3",
  groups: ["saml-interns"],
};

let gateway: GatewayFixture;
let idp: SamlIdpProcess;
let addressCounter = 0;
/** Each case posts from its own address, so the throttle of one case never decides another. */
const freshAddress = () => `198.51.100.${++addressCounter}`;

beforeAll(async () => {
  idp = await startSamlIdp({ spEntityId: ENTITY_ID, acsUrl: ACS, users: [ANA, BEN, EVE] });
  process.env.PUBLIC_URL = PUBLIC_URL;
  process.env.SAML_METADATA_URL = idp.metadataUrl;
  process.env.SAML_NAME = "Test SAML";
  gateway = await startGatewayFixture({ name: "saml" });
});

afterAll(async () => {
  await gateway?.stop();
  await idp?.stop();
});

function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, "&");
}

/** The fields of the auto-submitting form the IdP's page holds (the HTTP-POST binding). */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in the IdP's page: ${html.slice(0, 200)}`);
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[unescapeHtml(name ?? "")] = unescapeHtml(value ?? "");
  }
  return { action: unescapeHtml(action), fields };
}

/** An unsolicited answer from the IdP in the given shape. */
async function answerFromIdp(
  variant: AnswerVariant,
  email = ANA.email,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const query = new URLSearchParams({ variant, email, ...extra });
  const response = await fetch(`${idp.url}/idp-initiated?${query}`);
  expect(response.status).toBe(200);
  const { action, fields } = formOf(await response.text());
  expect(action).toBe(ACS);
  return fields;
}

interface AcsReply {
  status: number;
  location: URL;
  setCookie: string | null;
}

/** Posts the form to the assertion consumer service as a browser on the IdP's page does. */
async function postToAcs(fields: Record<string, string>, address = freshAddress()): Promise<AcsReply> {
  const { POST } = await import("@/app/api/auth/saml/acs/route");
  const response = await POST(
    new Request(ACS, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: new URL(idp.url).origin,
        "sec-fetch-site": "cross-site",
        "x-portcullis-client-address": address,
      },
      body: new URLSearchParams(fields).toString(),
    }),
  );
  return {
    status: response.status,
    location: new URL(response.headers.get("location") ?? "http://none/"),
    setCookie: response.headers.get("set-cookie"),
  };
}

function handoffOf(reply: AcsReply): string {
  const cookie = /^(portcullis\.saml-handoff=[^;]+)/.exec(reply.setCookie ?? "")?.[1];
  if (!cookie) throw new Error(`no hand-off cookie: ${reply.setCookie}`);
  return cookie;
}

/** The reply next-auth's API-route entry writes: what the browser would receive. */
class Reply {
  statusCode = 200;
  headers = new Map<string, string[]>();
  body: unknown;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string | string[]) {
    this.headers.set(name.toLowerCase(), Array.isArray(value) ? value : [value]);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  json(body: unknown) {
    this.body = body;
  }
  send(body: unknown) {
    this.body = body;
  }
  end() {}
}

/**
 * Turns a hand-off cookie into a next-auth session the way the sign-in page does (csrf, then the "saml"
 * callback), through next-auth's own handler and the console's options; next-auth's App Router entry needs
 * Next's request scope, so its API-route entry is called, which runs the same core.
 */
async function redeem(handoffCookie: string): Promise<{ sessionCookie?: string; error?: string }> {
  const { default: NextAuth } = await import("next-auth");
  const { getAuthOptions } = await import("@/server/auth");
  const host = new URL(PUBLIC_URL).host;
  const call = async (nextauth: string[], method: string, cookies: Record<string, string>, body = {}) => {
    const reply = new Reply();
    const cookie = Object.entries(cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
    await NextAuth(
      { query: { nextauth }, method, headers: { host, cookie }, cookies, body } as never,
      reply as never,
      getAuthOptions(),
    );
    return reply;
  };
  const csrf = await call(["csrf"], "GET", {});
  const csrfCookie = (csrf.getHeader("set-cookie") ?? [])
    .map((c) => /^next-auth\.csrf-token=([^;]+)/.exec(c)?.[1])
    .find(Boolean);
  const [handoffName = "", handoffValue = ""] = handoffCookie.split("=");
  const callback = await call(
    ["callback", "saml"],
    "POST",
    { "next-auth.csrf-token": decodeURIComponent(csrfCookie ?? ""), [handoffName]: handoffValue },
    { csrfToken: (csrf.body as { csrfToken: string }).csrfToken, callbackUrl: "/", json: "true" },
  );
  const session = (callback.getHeader("set-cookie") ?? [])
    .map((c) => /^(next-auth\.session-token=[^;]+)/.exec(c)?.[1])
    .find(Boolean);
  const url = (callback.body as { url?: string } | undefined)?.url;
  const error = url ? new URL(url, PUBLIC_URL).searchParams.get("error") : null;
  return { ...(session && { sessionCookie: session }), ...(error && { error }) };
}

async function me(sessionCookie: string): Promise<{ status: number; groups?: string[]; email?: string }> {
  const { GET } = await import("@/app/api/v1/me/route");
  const response = await GET(new Request(`${PUBLIC_URL}/api/v1/me`, { headers: { cookie: sessionCookie } }));
  if (response.status !== 200) return { status: response.status };
  const body = (await response.json()) as { user: { groups: string[]; email: string } };
  return { status: 200, groups: [...body.user.groups].sort(), email: body.user.email };
}

async function storeRows<T extends object>(text: string, ...params: string[]): Promise<T[]> {
  const sql = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text, params)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

async function userRow(email: string) {
  const [row] = await storeRows<{ id: string; auth_source: string; disabled: boolean }>(
    "select id, auth_source, disabled from users where lower(email) = lower($1)",
    email,
  );
  return row;
}

async function groupsOf(email: string): Promise<string[]> {
  const rows = await storeRows<{ name: string; source: string }>(
    `select g.name, m.source from group_members m join groups g on g.id = m.group_id
       join users u on u.id = m.user_id where lower(u.email) = lower($1) order by g.name`,
    email,
  );
  return rows.map((r) => `${r.name}:${r.source}`);
}

async function signInPageMessage(location: URL): Promise<string | undefined> {
  const { samlRefusalMessage } = await import("@/server/auth");
  const code = location.searchParams.get("error") ?? "";
  return samlRefusalMessage(code.replace(/^Saml:/, ""));
}

describe("SAML sign-in: a person signs in through the identity provider", () => {
  it("signs in SP-initiated: request out, the IdP's login form, the signed answer back, a console session with the groups", async () => {
    const { GET } = await import("@/app/api/auth/saml/login/route");
    const start = await GET(new Request(`${PUBLIC_URL}/api/auth/saml/login?callbackUrl=/connections`));
    expect(start.status).toBe(302);
    const toIdp = new URL(start.headers.get("location") ?? "");
    expect(toIdp.origin + toIdp.pathname).toBe(`${idp.url}/sso`);
    expect(toIdp.searchParams.get("RelayState")).toBe("/connections");

    const loginPage = await (await fetch(toIdp)).text();
    const requestId = /name="requestId" value="([^"]+)"/.exec(loginPage)?.[1] ?? "";
    const [sent] = await storeRows<{ id: string }>(
      "select id from saml_requests where id = $1",
      unescapeHtml(requestId),
    );
    expect(sent?.id).toBe(unescapeHtml(requestId));
    const login = await fetch(`${idp.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        requestId: unescapeHtml(requestId),
        relayState: "/connections",
        email: ANA.email,
        password: ANA.password,
      }),
    });
    const { fields } = formOf(await login.text());
    const reply = await postToAcs(fields);
    expect(reply.status).toBe(303);
    expect(reply.location.pathname).toBe("/signin");
    expect(reply.location.searchParams.get("saml")).toBe("continue");
    expect(reply.location.searchParams.get("callbackUrl")).toBe("/connections");
    expect(reply.setCookie).toMatch(/HttpOnly/);
    expect(reply.setCookie).toMatch(/Path=\/api\/auth\/callback\/saml/);

    const session = await redeem(handoffOf(reply));
    expect(session.sessionCookie).toBeDefined();
    expect(await me(session.sessionCookie ?? "")).toEqual({
      status: 200,
      email: ANA.email,
      groups: ["oncall", "saml-analysts"],
    });
    expect(await userRow(ANA.email)).toMatchObject({ auth_source: "saml" });
    expect(await groupsOf(ANA.email)).toEqual(["oncall:saml", "saml-analysts:saml"]);
    // The request ID is spent: the same answer cannot be matched to it again.
    expect(await storeRows("select id from saml_requests where id = $1", unescapeHtml(requestId))).toEqual(
      [],
    );
    const [event] = await storeRows<{ target: string }>(
      "select target from audit_events where action = 'auth.signin' and actor_label = $1",
      ANA.email,
    );
    expect(event?.target).toBe("saml");
  });

  it("signs in IdP-initiated (no request), landing on the relay path only when it is a path of the console", async () => {
    const here = await postToAcs({ ...(await answerFromIdp("good", BEN.email)), RelayState: "/sessions" });
    expect(here.location.searchParams.get("callbackUrl")).toBe("/sessions");
    const away = await postToAcs({
      ...(await answerFromIdp("good", BEN.email)),
      RelayState: "//evil.example/x",
    });
    expect(away.location.searchParams.get("callbackUrl")).toBe("/");
    const session = await redeem(handoffOf(away));
    expect((await me(session.sessionCookie ?? "")).groups).toEqual(["saml-ops"]);
  });

  it("ends a SAML session like any console session: sign out everywhere, and disabling the person", async () => {
    const { endSessions, updateUser } = await import("@/server/auth");
    const first = await redeem(handoffOf(await postToAcs(await answerFromIdp("good", BEN.email))));
    expect((await me(first.sessionCookie ?? "")).status).toBe(200);
    const user = await userRow(BEN.email);
    await endSessions(TEST_ACTOR, user?.id ?? "");
    expect((await me(first.sessionCookie ?? "")).status).toBe(401);

    const second = await redeem(handoffOf(await postToAcs(await answerFromIdp("good", BEN.email))));
    expect((await me(second.sessionCookie ?? "")).status).toBe(200);
    await updateUser(TEST_ACTOR, user?.id ?? "", { disabled: true });
    try {
      expect((await me(second.sessionCookie ?? "")).status).toBe(401);
    } finally {
      await updateUser(TEST_ACTOR, user?.id ?? "", { disabled: false });
    }
  });

  it("makes the memberships equal to the groups attribute on every sign-in, leaving console-made ones alone", async () => {
    const { addGroupMember, createGroup } = await import("@/server/auth");
    await redeem(handoffOf(await postToAcs(await answerFromIdp("good", EVE.email))));
    const user = await userRow(EVE.email);
    await createGroup(TEST_ACTOR, { name: "local-reviewers" });
    const [local] = await storeRows<{ id: string }>("select id from groups where name = 'local-reviewers'");
    await addGroupMember(TEST_ACTOR, local?.id ?? "", user?.id ?? "");
    expect(await groupsOf(EVE.email)).toEqual(["local-reviewers:local", "saml-interns:saml"]);

    const moved = await postToAcs(await answerFromIdp("good", EVE.email, { groups: "saml-analysts" }));
    const session = await redeem(handoffOf(moved));
    expect(await groupsOf(EVE.email)).toEqual(["local-reviewers:local", "saml-analysts:saml"]);
    expect((await me(session.sessionCookie ?? "")).groups).toEqual(["local-reviewers", "saml-analysts"]);
  });
});

describe("SAML sign-in refuses answers it cannot trust", () => {
  const attacks: [string, AnswerVariant, string][] = [
    ["an assertion altered after the IdP signed it", "tampered", "signature"],
    ["an assertion nobody signed", "unsigned", "signature"],
    ["an assertion signed by a key not in the metadata", "other-key", "signature"],
    ["a signed response around an unsigned assertion", "signed-response-only", "signature"],
    ["an expired assertion", "expired", "expired"],
    ["an assertion not valid yet", "not-yet-valid", "expired"],
    ["an assertion for another service (audience)", "wrong-audience", "audience"],
    ["an assertion for another service's address (recipient)", "wrong-recipient", "recipient"],
    ["a response sent to another address (destination)", "wrong-destination", "recipient"],
    ["an assertion from another issuer", "wrong-issuer", "issuer"],
    ["an answer to a request this console never sent", "unknown-request", "unknown_request"],
    ["a forged assertion wrapped around the signed one (signature wrapping)", "wrapped", "signature"],
  ];

  it.each(attacks)(
    "refuses %s, says why on the sign-in page, and signs nobody in",
    async (_name, variant, code) => {
      const email = `${variant}@example.com`;
      // The IdP knows this person only for this case: whatever the answer says, no account may appear.
      const fields = await answerFromIdp(variant, ANA.email);
      const before = await groupsOf(ANA.email);
      const reply = await postToAcs(fields);
      expect(reply.status).toBe(303);
      expect(reply.location.pathname).toBe("/signin");
      expect(reply.location.searchParams.get("error")).toBe(`Saml:${code}`);
      expect(reply.setCookie).toBeNull();
      expect(await signInPageMessage(reply.location)).toBeTruthy();
      expect(await groupsOf(ANA.email)).toEqual(before);
      expect(await userRow(email)).toBeUndefined();
      expect(await userRow("admin@example.com")).toBeUndefined();
      const failures = await storeRows<{ details: { reason: string } }>(
        "select details from audit_events where action = 'auth.signin_failed' and target = 'saml' order by id desc limit 1",
      );
      expect(failures[0]?.details.reason).toBe(code);
    },
  );

  it("refuses the same assertion posted twice (replay), and the replay changes no membership", async () => {
    const fields = await answerFromIdp("good", BEN.email, { groups: "saml-ops,saml-admins-then" });
    const first = await postToAcs(fields);
    expect(first.location.searchParams.get("saml")).toBe("continue");
    await postToAcs(await answerFromIdp("good", BEN.email, { groups: "saml-ops" }));
    expect(await groupsOf(BEN.email)).toEqual(["saml-ops:saml"]);

    const again = await postToAcs(fields);
    expect(again.location.searchParams.get("error")).toBe("Saml:replayed");
    expect(again.setCookie).toBeNull();
    expect(await signInPageMessage(again.location)).toMatch(/already used/);
    expect(await groupsOf(BEN.email)).toEqual(["saml-ops:saml"]);
  });

  it("refuses a disabled person, both at the answer and at a hand-off issued before the account was disabled", async () => {
    const { updateUser } = await import("@/server/auth");
    const pending = await postToAcs(await answerFromIdp("good", EVE.email, { groups: "saml-interns" }));
    const user = await userRow(EVE.email);
    await updateUser(TEST_ACTOR, user?.id ?? "", { disabled: true });
    try {
      const refused = await postToAcs(await answerFromIdp("good", EVE.email));
      expect(refused.location.searchParams.get("error")).toBe("Saml:disabled");
      const late = await redeem(handoffOf(pending));
      expect(late.sessionCookie).toBeUndefined();
      expect(late.error).toBe("Saml:handoff");
    } finally {
      await updateUser(TEST_ACTOR, user?.id ?? "", { disabled: false });
    }
  });

  it("turns a hand-off into a session once: the same cookie again, or a made-up one, signs nobody in", async () => {
    const handoff = handoffOf(await postToAcs(await answerFromIdp("good", BEN.email)));
    expect((await redeem(handoff)).sessionCookie).toBeDefined();
    const again = await redeem(handoff);
    expect(again.sessionCookie).toBeUndefined();
    expect(again.error).toBe("Saml:handoff");
    const forged = await redeem(`portcullis.saml-handoff=${"A".repeat(43)}`);
    expect(forged.sessionCookie).toBeUndefined();
  });

  it("throttles an address that keeps posting answers that do not verify", async () => {
    const address = freshAddress();
    const fields = await answerFromIdp("tampered", ANA.email);
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) {
      codes.push((await postToAcs(fields, address)).location.searchParams.get("error") ?? "");
    }
    expect(codes.slice(0, 20).every((c) => c === "Saml:signature")).toBe(true);
    expect(codes.some((c) => c.startsWith("Throttled:"))).toBe(true);
    // Even a good answer waits its turn from that address.
    const good = await postToAcs(await answerFromIdp("good", ANA.email), address);
    expect(good.location.searchParams.get("error")).toMatch(/^Throttled:\d+$/);
  });

  it("answers bad input at the assertion consumer service with a 4xx naming the problem", async () => {
    const { POST } = await import("@/app/api/auth/saml/acs/route");
    const json = await POST(
      new Request(ACS, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
    );
    expect(json.status).toBe(415);
    const missing = await POST(
      new Request(ACS, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "RelayState=/x",
      }),
    );
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/SAMLResponse/);
    const garbage = await postToAcs({ SAMLResponse: Buffer.from("<not-saml/>").toString("base64") });
    expect(garbage.location.searchParams.get("error")).toBe("Saml:malformed");
  });
});

describe("SAML service provider metadata", () => {
  it("names the console's entity ID and assertion consumer service and asks for signed assertions", async () => {
    const { GET } = await import("@/app/api/auth/saml/metadata/route");
    const response = await GET(new Request(ENTITY_ID));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/samlmetadata\+xml/);
    const xml = await response.text();
    expect(xml).toContain(`entityID="${ENTITY_ID}"`);
    expect(xml).toContain(`Location="${ACS}"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
  });
});
