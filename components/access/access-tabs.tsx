// Tabs across the access pages: time-boxed grants, the matrix, review campaigns and the auditor's questions.
import Link from "next/link";
import "./access.css";

const TABS = [
  { href: "/access", label: "Requests & grants", auditOnly: false },
  { href: "/access/matrix", label: "Matrix", auditOnly: true },
  { href: "/access/campaigns", label: "Reviews", auditOnly: false },
  { href: "/access/questions", label: "Questions", auditOnly: true },
];

export function AccessTabs({ current, isAuditor }: { current: string; isAuditor: boolean }) {
  return (
    <nav className="access-tabs no-print" aria-label="Access">
      {TABS.filter((t) => isAuditor || !t.auditOnly).map((t) => (
        <Link key={t.href} href={t.href} aria-current={t.href === current ? "page" : undefined}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
