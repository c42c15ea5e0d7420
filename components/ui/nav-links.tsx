"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

export interface NavItem {
  href: string;
  label: string;
  section?: string;
}

export function NavLinks({ items }: { items: NavItem[] }) {
  const pathname = usePathname();
  let lastSection: string | undefined;
  return (
    <>
      {items.map((item) => {
        const header = item.section && item.section !== lastSection ? item.section : undefined;
        lastSection = item.section ?? lastSection;
        const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
        return (
          <span key={item.href}>
            {header && <div className="section">{header}</div>}
            <Link href={item.href} aria-current={active ? "page" : undefined}>
              {item.label}
            </Link>
          </span>
        );
      })}
    </>
  );
}
