"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { InboxBadge } from "@/components/inbox/inbox-badge";

export interface NavItem {
  href: string;
  label: string;
  section?: string;
  badge?: "inbox";
  /** Other paths this item stands for (the access matrix and questions belong to Access reviews). */
  also?: string[];
}

const isUnder = (pathname: string, href: string) => pathname === href || pathname.startsWith(`${href}/`);

export function NavLinks({ items, inboxCount }: { items: NavItem[]; inboxCount: number }) {
  const pathname = usePathname();
  // The longest matching link is the current one (/access/campaigns is not also /access).
  const current = items
    .flatMap((item) => [item.href, ...(item.also ?? [])].map((path) => ({ item, path })))
    .filter(({ path }) => isUnder(pathname, path))
    .sort((a, b) => b.path.length - a.path.length)[0]?.item.href;
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
