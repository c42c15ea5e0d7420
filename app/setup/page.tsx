import { redirect } from "next/navigation";
import { SetupForm } from "@/components/auth/setup-form";
import { isSetupNeeded } from "@/server/auth";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up" };

export default async function SetupPage() {
  if (!(await isSetupNeeded())) redirect("/signin");
  return (
    <div className="center-card">
      <div className="panel">
        <div className="brand">
          Port<span>cullis</span>
        </div>
        <p className="lead">
          Welcome. Create the first admin account; you can add people, groups and connections next.
        </p>
        <SetupForm />
      </div>
    </div>
  );
}
