"use client";

import { signOut } from "next-auth/react";
import { useState } from "react";
import { meApi } from "@/lib/api";

export function SignOutButton() {
  return (
    <button
      className="btn small"
      type="button"
      onClick={() => signOut({ callbackUrl: "/signin" })}
      style={{ marginTop: "0.5rem" }}
    >
      Sign out
    </button>
  );
}

/** Ends every session of the signed-in person (other browsers and devices too), then this one. */
export function SignOutEverywhereButton() {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        className="btn small"
        type="button"
        style={{ marginTop: "0.5rem" }}
        onClick={async () => {
          if (!window.confirm("Sign out of the console on every browser and device?")) return;
          try {
            await meApi.signOutEverywhere();
            await signOut({ callbackUrl: "/signin" });
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        Sign out everywhere
      </button>
      {error && (
        <div className="muted small" role="alert">
          {error}
        </div>
      )}
    </>
  );
}
