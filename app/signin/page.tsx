import { redirect } from "next/navigation";
import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { currentPrincipal, isSetupNeeded } from "@/server/auth";
import { getConfig } from "@/server/config";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function SignInPage() {
  if (await isSetupNeeded()) redirect("/setup");
  if (await currentPrincipal()) redirect("/");
  const oidc = getConfig().oidc;
  return (
    <div className="center-card">
      <div className="panel">
        <div className="brand">
          Port<span>cullis</span>
        </div>
        <p className="lead">Sign in to reach your databases and servers.</p>
        <Suspense>
          <SignInForm sso={oidc ? { name: oidc.name } : null} />
        </Suspense>
      </div>
    </div>
  );
}
