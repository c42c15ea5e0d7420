/**
 * next-auth configuration: local accounts (credentials) and, when OIDC_* is set, single sign-on with any
 * OpenID Connect provider whose groups claim becomes group memberships. Sessions are signed JWT cookies that
 * expire and carry the person's session epoch (server/auth/sessions.ts): every request re-loads the user, so
 * a disabled or deleted account, or one whose sessions were ended, loses access at once. Password sign-ins
 * are throttled per account and per address (sign-in-throttle.ts); cookies are Secure when PUBLIC_URL is https.
 * SAML answers are checked in server/auth/saml and end here, through the "saml" provider, in the same session.
 */
import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { getConfig } from "@/server/config";
import { clientAddressFrom } from "@/server/http/client-address";
import { redeemSamlHandoff } from "./saml";
import { currentSessionEpoch, endSessionsOnSignOut } from "./sessions";
import { forgiveSignIn, THROTTLED_PREFIX, takeSignInAttempt } from "./sign-in-throttle";
import { findUserByEmail, findUserById } from "./store";
import { touchLastSeen, upsertOidcUser, verifyLocalSignIn } from "./users";

type OidcProfile = Record<string, unknown> & { sub: string; email?: string; name?: string };

function claimAsGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  if (typeof value === "string") return value.split(/[,\s]+/).filter(Boolean);
  return [];
}

let cached: NextAuthOptions | undefined;

export function getAuthOptions(): NextAuthOptions {
  if (cached) return cached;
  const config = getConfig();
  const providers: NextAuthOptions["providers"] = [
    CredentialsProvider({
      id: "credentials",
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      async authorize(credentials, req) {
        if (!credentials?.email || !credentials.password) return null;
        const email = credentials.email.slice(0, 320);
        const address = clientAddressFrom(req?.headers ?? {});
        const actor = { id: null, label: email.slice(0, 200) };
        const attempt = await takeSignInAttempt(email, address);
        if (!attempt.allowed) {
          // next-auth hands the message to the sign-in page as the error code.
          throw new Error(`${THROTTLED_PREFIX}${attempt.retryAfterSeconds}`);
        }
        const userId = await verifyLocalSignIn(email, credentials.password);
        if (!userId) {
          await recordAuditEvent(actor, "auth.signin_failed", "local", { address });
          for (const wait of attempt.waits) {
            await recordAuditEvent(actor, "auth.signin_throttled", "local", { address, ...wait });
          }
          return null;
        }
        await forgiveSignIn(email, address);
        return { id: userId, email };
      },
    }),
  ];
  const oidc = config.oidc;
  if (oidc) {
    const provider: OAuthConfig<OidcProfile> = {
      id: "oidc",
      name: oidc.name,
      type: "oauth",
      wellKnown: `${oidc.issuer}/.well-known/openid-configuration`,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret,
      authorization: { params: { scope: `openid email profile ${oidc.groupsClaim}` } },
      idToken: true,
      checks: ["pkce", "state"],
      profile(profile) {
        return {
          id: profile.sub,
          email: profile.email ?? null,
          name: profile.name ?? profile.email ?? profile.sub,
        };
      },
    };
    providers.push(provider);
  }
  if (config.saml) {
    // The assertion was checked by the assertion consumer service (server/auth/saml), which left a one-time
    // hand-off cookie for this callback only; redeeming it here makes the session an ordinary next-auth one.
    providers.push(
      CredentialsProvider({
        id: "saml",
        name: config.saml.name,
        credentials: {},
        async authorize(_credentials, req) {
          const cookie = req?.headers?.cookie;
          const user = await redeemSamlHandoff(typeof cookie === "string" ? cookie : undefined);
          if (!user) throw new Error("Saml:handoff");
          return user;
        },
      }),
    );
  }
  cached = {
    secret: config.authSecret,
    providers,
    session: { strategy: "jwt", maxAge: config.sessionMaxAgeSeconds },
    useSecureCookies: config.publicUrl.startsWith("https://"),
    jwt: { maxAge: config.sessionMaxAgeSeconds },
    pages: { signIn: "/signin", error: "/signin" },
    callbacks: {
      async jwt({ token, user, account, profile }) {
        if (account?.provider === "oidc" && profile) {
          const claims = profile as OidcProfile;
          const email = typeof claims.email === "string" ? claims.email : undefined;
          if (!email) throw new Error("the identity provider sent no email claim");
          token.uid = await upsertOidcUser({
            email,
            name: typeof claims.name === "string" ? claims.name : email,
            groups: claimAsGroups(oidc ? claims[oidc.groupsClaim] : undefined),
          });
        } else if (user) {
          token.uid = user.id;
        }
        if (account && typeof token.uid === "string") {
          token.epoch = await currentSessionEpoch(token.uid);
          await touchLastSeen([token.uid]);
        }
        return token;
      },
      async session({ session, token }) {
        const uid = typeof token.uid === "string" ? token.uid : undefined;
        const user = uid ? await findUserById(await getDb(), uid) : undefined;
        if (user && !user.disabled && user.sessionEpoch === token.epoch) {
          session.user = { name: user.name, email: user.email };
        } else {
          session.user = undefined;
        }
        return session;
      },
    },
    events: {
      async signIn({ user, account }) {
        // For single sign-on, user.id is the provider's subject; the audit log names the console's account.
        const known = user.email ? await findUserByEmail(await getDb(), user.email) : undefined;
        await recordAuditEvent(
          { id: known?.id ?? null, label: user.email ?? "unknown" },
          "auth.signin",
          account?.provider === "credentials" ? "local" : (account?.provider ?? ""),
        );
      },
      async signOut({ token }) {
        const uid = typeof token?.uid === "string" ? token.uid : null;
        const email = typeof token?.email === "string" ? token.email : "unknown";
        if (uid) await endSessionsOnSignOut(uid, token?.epoch);
        await recordAuditEvent({ id: uid, label: email }, "auth.signout", "");
      },
    },
  };
  return cached;
}
