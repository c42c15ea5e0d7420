// A real OpenID Connect provider (oidc-provider v9) for tests of single sign-on: one confidential client,
// a fixed list of users, a plain HTML login form and automatic consent, a groups claim in the ID token
// and userinfo. Runs in-process (startOidcProvider) or standalone:
//   npx tsx test/harness/oidc.ts --port 0 --config <json file>   -> prints OIDC_ISSUER=<url> when ready
// Not for production: keys and sessions live in memory and the issuer is plain http.
import { generateKeyPairSync, randomBytes, timingSafeEqual } from "node:crypto";
import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanupOnExit } from "./free-port";

export interface OidcUser {
  sub: string;
  email: string;
  name: string;
  password: string;
  groups: string[];
}

export interface StartOidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  users: OidcUser[];
  /** Name of the claim that carries the user's groups; default "groups". Released with the `groups` scope. */
  groupsClaim?: string;
  /** Default 0: a free port picked by the kernel. */
  port?: number;
  /** Interface and issuer host; default "127.0.0.1". */
  host?: string;
  /** Where the client is sent after logout (RP-initiated logout); default none. */
  postLogoutRedirectUris?: string[];
}

export interface OidcProviderServer {
  issuer: string;
  port: number;
  /** Closes the server and every open connection. Safe to call twice. */
  stop(): Promise<void>;
}

// oidc-provider ships no type declarations (they live in @types/oidc-provider, not installed), so this
// module describes the few parts it uses and loads the package through a specifier TypeScript does not chase.
interface Interaction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown> & { client_id?: string; scope?: string };
  session?: { accountId?: string };
  grantId?: string;
  lastSubmission?: Record<string, unknown>;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface Provider {
  issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  };
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => Provider;

async function loadProvider(): Promise<ProviderConstructor> {
  const specifier: string = "oidc-provider";
  const module = (await import(specifier)) as { Provider: ProviderConstructor };
  return module.Provider;
}

type Payload = Record<string, unknown> & { uid?: string; userCode?: string; grantId?: string };

/**
 * A per-provider in-memory store for oidc-provider's models. The package's own memory adapter works too,
 * but it is shared by every provider in the process and warns on each start.
 */
function createMemoryAdapter() {
  const entries = new Map<string, { payload: Payload; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry?.payload;
  };
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      const expiresAt =
        typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      entries.set(this.key(id), { payload, expiresAt });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      return this.findBy((payload) => payload.uid === uid);
    }
    async findByUserCode(userCode: string) {
      return this.findBy((payload) => payload.userCode === userCode);
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const prefix = `${this.model}:`;
      for (const [key, entry] of entries) {
        if (key.startsWith(prefix) && entry.payload.grantId === grantId) entries.delete(key);
      }
    }
    private findBy(matches: (payload: Payload) => boolean) {
      const prefix = `${this.model}:`;
      for (const key of entries.keys()) {
        const payload = key.startsWith(prefix) ? live(key) : undefined;
        if (payload && matches(payload)) return payload;
      }
      return undefined;
    }
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function loginPage(options: { uid: string; clientId: string; login?: string; error?: string }): string {
  const { uid, clientId, login = "", error } = options;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - test identity provider</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.error{color:#b00020}</style>
</head>
<body>
<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="login">Email or username</label>
<input id="login" name="login" type="text" value="${escapeHtml(login)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>
</body>
</html>`;
}

function errorPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error - test identity provider</title></head><body><h1>Error</h1><p role="alert">${escapeHtml(message)}</p></body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function isSamePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Grants everything the pending consent prompt asks for: the "automatic consent" of this provider. */
async function grantAll(provider: Provider, interaction: Interaction): Promise<string> {
  const accountId = interaction.session?.accountId;
  const clientId = interaction.params.client_id;
  if (!accountId || !clientId) throw new Error("consent without a signed-in user or a client");
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  return grant.save();
}

export async function startOidcProvider(options: StartOidcProviderOptions): Promise<OidcProviderServer> {
  const Provider = await loadProvider();
  const host = options.host ?? "127.0.0.1";
  const groupsClaim = options.groupsClaim ?? "groups";
  const users = options.users;
  const findUser = (login: string) =>
    users.find(
      (user) => user.email.toLowerCase() === login.trim().toLowerCase() || user.sub === login.trim(),
    );

  // The issuer must carry the port, so listen first (port 0 = free port) and attach the provider after.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handle(req, res));
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: "jwk" }),
    kid: randomBytes(8).toString("hex"),
    use: "sig",
    alg: "RS256",
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        response_types: ["code"],
        grant_types: ["authorization_code", "refresh_token"],
        // client_secret_post is accepted too: oidc-provider treats the two secret methods as one.
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    adapter: createMemoryAdapter(),
    // Explicit lifetimes (seconds); the defaults work but print a notice for each model on first use.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      groups: [groupsClaim],
    },
    scopes: ["openid", "offline_access", "email", "profile", "groups"],
    // Put scope claims in the ID token too (not only userinfo), as most identity providers do.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const user = users.find((candidate) => candidate.sub === sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return {
            sub: user.sub,
            email: user.email,
            email_verified: true,
            name: user.name,
            preferred_username: user.email,
            [groupsClaim]: [...user.groups],
          };
        },
      };
    },
  });
  const providerCallback = provider.callback();

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [, , uid, action] = path.split("/");
    let interaction: Interaction;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch (error) {
      sendHtml(
        res,
        400,
        errorPage(`This sign-in attempt expired or is unknown (${(error as Error).message}). Start again.`),
      );
      return;
    }
    if (interaction.uid !== uid) {
      sendHtml(res, 400, errorPage("This sign-in page does not belong to the current attempt. Start again."));
      return;
    }
    const clientId = interaction.params.client_id ?? "";

    if (req.method === "GET" && action === undefined) {
      if (interaction.prompt.name === "login") {
        sendHtml(res, 200, loginPage({ uid, clientId }));
        return;
      }
      if (interaction.prompt.name === "consent") {
        const grantId = await grantAll(provider, interaction);
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      sendHtml(res, 400, errorPage(`Unsupported prompt "${interaction.prompt.name}".`));
      return;
    }

    if (req.method === "POST" && action === "login") {
      const form = await readForm(req);
      const login = form.get("login") ?? "";
      const user = findUser(login);
      if (!user || !isSamePassword(form.get("password") ?? "", user.password)) {
        sendHtml(res, 401, loginPage({ uid, clientId, login, error: "Invalid email or password." }));
        return;
      }
      // Consent follows as a new interaction, which the GET branch above grants without a page.
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }

    if (req.method === "GET" && action === "abort") {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "End-User aborted interaction" },
        { mergeWithLastSubmission: false },
      );
      return;
    }

    sendHtml(res, 404, errorPage("Not found."));
  }

  handle = (req, res) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    if (path.startsWith("/interaction/")) {
      handleInteraction(req, res, path).catch((error: unknown) => {
        if (!res.headersSent) sendHtml(res, 500, errorPage((error as Error).message));
        else res.end();
      });
      return;
    }
    providerCallback(req, res);
  };

  let isStopped = false;
  const closeSync = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  const unregister = cleanupOnExit(closeSync);
  return {
    issuer,
    port,
    async stop() {
      if (isStopped) return;
      isStopped = true;
      unregister();
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function parseArgs(argv: string[]): { port?: number; host?: string; config?: string } {
  const args: { port?: number; host?: string; config?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--port" && value !== undefined) args.port = Number(value);
    else if (flag === "--host" && value !== undefined) args.host = value;
    else if (flag === "--config" && value !== undefined) args.config = value;
    else throw new Error(`unknown or incomplete argument: ${flag}`);
    i++;
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.config)
    throw new Error("usage: tsx test/harness/oidc.ts [--port 0] [--host 127.0.0.1] --config <json file>");
  const config = JSON.parse(await readFile(args.config, "utf8")) as StartOidcProviderOptions;
  const server = await startOidcProvider({
    ...config,
    port: args.port ?? config.port,
    host: args.host ?? config.host,
  });
  process.stdout.write(`OIDC_ISSUER=${server.issuer}\n`);
  const shutdown = () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main().catch((error: unknown) => {
    process.stderr.write(`oidc: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
