"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { signIn } from "next-auth/react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Alerts } from "@/components/ui/alerts";

const ERRORS: Record<string, string> = {
  CredentialsSignin: "The email or password is wrong, or the account is disabled.",
  OAuthSignin: "Single sign-on could not start. Check the identity provider settings.",
  OAuthCallback: "The identity provider's answer could not be verified.",
  Callback: "Single sign-on failed: the identity provider sent no usable email, or the account is disabled.",
  SessionRequired: "Please sign in to continue.",
  Refused:
    "The console refused this sign-in. Open it at its own address (its PUBLIC_URL), not at another name for it.",
};

/** next-auth passes the throttle's refusal as the error code "Throttled:<seconds>" (server/auth). */
function messageOf(code: string): string {
  const throttled = /^Throttled:(\d{1,5})$/.exec(code);
  if (throttled) return `Too many sign-in attempts: try again in ${throttled[1]} s.`;
  return ERRORS[code] ?? "Sign-in failed.";
}

/** SAML sign-in, when configured: the button's name, the refusal the page was opened with, the hand-off's. */
export interface SamlSignIn {
  name: string;
  refusal: string | null;
  handoffRefusal: string;
}

export function SignInForm({ sso, saml }: { sso: { name: string } | null; saml: SamlSignIn | null }) {
  const router = useRouter();
  const params = useSearchParams();
  const requested = params.get("callbackUrl") ?? "/";
  // A path of this console only (server/auth/saml/callback-path.ts says why each character class is refused).
  const callbackUrl = /^\/(?![/\\])[\x21-\x7e]*$/.test(requested) ? requested : "/";
  const initialError = params.get("error");
  const [error, setError] = useState<string | null>(
    saml?.refusal ?? (initialError ? messageOf(initialError) : null),
  );
  const [busy, setBusy] = useState(false);
  const finishing = params.get("saml") === "continue" && saml !== null;
  const started = useRef(false);

  // Back from the identity provider: the assertion was checked and left a one-time hand-off cookie, which
  // next-auth's "saml" provider turns into the console's ordinary session.
  useEffect(() => {
    if (!finishing || started.current) return;
    started.current = true;
    signIn("saml", { redirect: false })
      .catch(() => ({ error: "Refused", ok: false }))
      .then((result) => {
        if (!result || result.error) {
          const code = result?.error ?? "";
          setError(code.startsWith("Saml:") ? (saml?.handoffRefusal ?? null) : messageOf(code));
          router.replace("/signin");
          return;
        }
        router.push(callbackUrl);
        router.refresh();
      });
  }, [finishing, saml, callbackUrl, router]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    // next-auth throws when the console refuses the form outright (a page opened at another address than
    // PUBLIC_URL: server/http/cross-site.ts).
    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    }).catch(() => ({ error: "Refused", ok: false, status: 403, url: null }));
    setBusy(false);
    if (!result || result.error) {
      setError(messageOf(result?.error ?? "CredentialsSignin"));
      return;
    }
    router.push(callbackUrl);
    router.refresh();
  }

  if (finishing && !error) {
    return <p className="muted">Signing you in…</p>;
  }

  return (
    <>
      <Alerts error={error} />
      <form className="stack" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
        </div>
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {sso && (
        <>
          <div className="divider">or</div>
          <button
            className="btn"
            type="button"
            style={{ width: "100%", justifyContent: "center" }}
            onClick={() => signIn("oidc", { callbackUrl })}
          >
            Sign in with {sso.name}
          </button>
        </>
      )}
      {saml && (
        <>
          {!sso && <div className="divider">or</div>}
          <a
            className="btn"
            style={{ width: "100%", justifyContent: "center", marginTop: sso ? 8 : 0 }}
            href={`/api/auth/saml/login?callbackUrl=${encodeURIComponent(callbackUrl)}`}
          >
            Sign in with {saml.name}
          </a>
        </>
      )}
    </>
  );
}
