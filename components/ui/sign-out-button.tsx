"use client";

import { signOut } from "next-auth/react";

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
