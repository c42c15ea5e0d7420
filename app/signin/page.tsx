import { redirect } from "next/navigation";
import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { currentPrincipal, isSetupNeeded, samlRefusalMessage } from "@/server/auth";
import { getConfig } from "@/server/config";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function SignInPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  if (await isSetupNeeded()) redirect("/setup");
  if (await currentPrincipal()) redirect("/");
  const { oidc, saml } = getConfig();
  const error = (await searchParams).error;
  // A SAML refusal arrives as "Saml:<reason>" from the assertion consumer service; its sentence is the server's.
  const samlCode = typeof error === "string" && error.startsWith("Saml:") ? error.slice(5) : undefined;
  return (
    <div className="center-card">
      <div className="panel">
        <div className="brand">
          Port<span>cullis</span>
        </div>
        <p className="lead">Sign in to reach your databases and servers.</p>
        <Suspense>
          <SignInForm
            sso={oidc ? { name: oidc.name } : null}
            saml={
              saml
                ? {
                    name: saml.name,
                    refusal: samlCode ? (samlRefusalMessage(samlCode) ?? "SAML sign-in failed.") : null,
                    handoffRefusal: samlRefusalMessage("handoff") ?? "",
                  }
                : null
            }
          />
        </Suspense>
      </div>
    </div>
  );
}
