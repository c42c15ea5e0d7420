import type { ReactNode } from "react";
import { type NavItem, NavLinks } from "@/components/ui/nav-links";
import { SignOutButton, SignOutEverywhereButton } from "@/components/ui/sign-out-button";
import { countInbox } from "@/server/approvals";
import { requirePrincipal } from "@/server/auth";
import { hasPermission } from "@/server/principal";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const principal = await requirePrincipal();
  const items: NavItem[] = [
    { href: "/editor", label: "SQL editor", section: "Access" },
    { href: "/terminal", label: "Terminal", section: "Access" },
    { href: "/connections", label: "Connections", section: "Access" },
    { href: "/inbox", label: "Inbox", section: "Access", badge: "inbox" },
    { href: "/access", label: "Access requests", section: "Access" },
  ];
  items.push({ href: "/sessions", label: "Sessions", section: "Audit" });
  items.push({
    href: "/access/campaigns",
    label: "Access reviews",
    section: "Audit",
    also: ["/access/matrix", "/access/questions"],
  });
  if (hasPermission(principal, "users:manage")) {
    items.push(
      { href: "/users", label: "Users", section: "Admin" },
      { href: "/groups", label: "Groups", section: "Admin" },
      { href: "/webhooks", label: "Webhooks", section: "Admin" },
      { href: "/scim-tokens", label: "SCIM tokens", section: "Admin" },
    );
  }
  if (hasPermission(principal, "policies:manage"))
    items.push({ href: "/policies", label: "Policies", section: "Admin" });
  if (hasPermission(principal, "tokens:manage")) {
    items.push({ href: "/service-accounts", label: "Service accounts", section: "Admin" });
  }
  if (hasPermission(principal, "audit:read"))
    items.push({ href: "/audit", label: "Audit log", section: "Admin" });
  items.push({ href: "/account", label: "Your account", section: "Help" });
  items.push({ href: "/api-docs", label: "API reference", section: "Help" });
  return (
    <div className="shell">
      <nav className="nav" aria-label="Main">
        <div className="brand">
          Port<span>cullis</span>
        </div>
        <NavLinks items={items} inboxCount={await countInbox(principal)} />
        <div className="me">
          <div className="who">{principal.name}</div>
          <div className="muted small">{principal.email}</div>
          <div>
            {principal.role === "admin" && <span className="tag admin">admin</span>}
            {principal.groups.map((g) => (
              <span className="tag" key={g.id}>
                {g.name}
              </span>
            ))}
          </div>
          <SignOutButton />
          <SignOutEverywhereButton />
        </div>
      </nav>
      <main className="console-main">{children}</main>
    </div>
  );
}
