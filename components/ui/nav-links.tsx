"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { InboxBadge } from "@/components/inbox/inbox-badge";

export interface NavItem {
  href: string;
  label: string;
  section?: string;
  badge?: "inbox";
}

export function NavLinks({ items, inboxCount }: { items: NavItem[]; inboxCount: number }) {
  const pathname = usePathname();
  // The longest matching link is the current one (/access/campaigns is not also /access).
  const current = items
    .filter((item) => pathname === item.href || pathname.startsWith(`${item.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0]?.href;
  let lastSection: string | undefined;
  return (
    <>
      {items.map((item) => {
        const header = item.section && item.section !== lastSection ? item.section : undefined;
        lastSection = item.section ?? lastSection;
        const active = item.href === current;
        return (
          <span key={item.href}>
            {header && <div className="section">{header}</div>}
            <Link href={item.href} aria-current={active ? "page" : undefined}>
              {item.label}
              {item.badge === "inbox" && <InboxBadge initial={inboxCount} />}
            </Link>
          </span>
        );
      })}
    </>
  );
}
