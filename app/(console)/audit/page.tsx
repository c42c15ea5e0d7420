// The audit log: sign-ins and changes (users, groups, connections, policies, reviews and decisions, tokens,
// retention), filtered by who, kind of action, target and time, 50 a page, newest first, with the filtered
// set exported as CSV or JSON and the log's hash chain checked.
import Link from "next/link";
import { Suspense } from "react";
import { ZodError } from "zod";
import "@/components/replay/replay.css";
import "@/components/audit/audit.css";
import { AuditChainStatus } from "@/components/audit/audit-chain-status";
import { formatTime } from "@/components/replay/format";
import { FilterField } from "@/components/ui/filter-field";
import {
  AUDIT_KINDS,
  type AuditFilters,
  type AuditKind,
  type AuditPage,
  parseAuditFilters,
  queryAuditEvents,
} from "@/server/audit";
import { requirePrincipal } from "@/server/auth";

export const metadata = { title: "Audit log" };

type SearchParams = Record<string, string | string[] | undefined>;

/** The current filters as a query string, with page or format replaced. */
function queryWith(params: SearchParams, extra: Record<string, string>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (key !== "page" && key !== "format" && first) query.set(key, first);
  }
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  const text = query.toString();
  return text ? `?${text}` : "";
}

function FilterForm({ filters }: { filters: Partial<AuditFilters> }) {
  return (
    <form method="get" action="/audit" className="panel session-filters" aria-label="Filter audit events">
      <FilterField id="a-actor" name="actor" label="Who" value={filters.actor} placeholder="email contains" />
      <div className="field">
        <label htmlFor="a-kind">Kind of action</label>
        <select id="a-kind" name="kind" defaultValue={filters.kind ?? ""}>
          <option value="">any</option>
          {(Object.entries(AUDIT_KINDS) as [AuditKind, { label: string }][]).map(([value, kind]) => (
            <option key={value} value={value}>
              {kind.label}
            </option>
          ))}
        </select>
      </div>
      <FilterField
        id="a-action"
        name="action"
        label="Action"
        value={filters.action}
        placeholder="e.g. approve"
      />
      <FilterField
        id="a-target"
        name="target"
        label="Target"
        value={filters.target}
        placeholder="connection, user…"
      />
      <FilterField id="a-from" name="from" label="From (UTC)" value={filters.from} type="date" />
      <FilterField id="a-to" name="to" label="To (UTC)" value={filters.to} type="date" />
      <div className="btn-row">
        <button type="submit" className="btn primary">
          Filter
        </button>
        <Link href="/audit" className="btn">
          Clear
        </Link>
      </div>
    </form>
  );
}

/** A detail's value as read: text as it is, a list of plain values joined, anything else as compact JSON. */
function detailText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object"))
    return value.length === 0 ? "(none)" : value.map(String).join(", ");
  return JSON.stringify(value);
}

/** An event's details as `key value` lines (the export keeps the JSON). */
function Details({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details);
  if (entries.length === 0) return null;
  return (
    <dl className="audit-details">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{detailText(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function AuditTable({ page }: { page: AuditPage }) {
  return (
    <table className="data audit-log">
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          <th>Action</th>
          <th>Target</th>
          <th className="details">Details</th>
        </tr>
      </thead>
      <tbody>
        {page.events.map((e) => (
          <tr key={e.id}>
            <td className="small when">{formatTime(e.at)}</td>
            <td className="small">{e.actorLabel}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td className="small">{e.target}</td>
            <td className="small details">
              <Details details={e.details} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function AuditLogPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePrincipal("audit:read");
  const params = await searchParams;
  let page: AuditPage | undefined;
  let filters: AuditFilters | undefined;
  let problem: string | undefined;
  try {
    filters = parseAuditFilters(params);
    page = await queryAuditEvents(filters);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    problem = err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  }
  const isFiltered = Object.entries(params).some(([key, value]) => key !== "page" && Boolean(value));
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="btn-row">
          <a className="btn" href={`/api/v1/audit${queryWith(params, { format: "csv" })}`} download>
            Export CSV
          </a>
          <a className="btn" href={`/api/v1/audit${queryWith(params, { format: "json" })}`} download>
            Export JSON
          </a>
        </div>
      </div>
      <p className="lead">
        Sign-ins, changes to users, groups, connections and policies, reviews and their decisions, tokens and
        retention, newest first. Every event is hash-chained to the one before; exports hold the filtered set.
      </p>
      <p>
        <Suspense fallback={<span className="tag">Checking the audit log's integrity…</span>}>
          <AuditChainStatus />
        </Suspense>
      </p>
      <FilterForm filters={filters ?? {}} />
      {problem && <div className="alert error">Those filters do not work: {problem}</div>}
      {page && page.events.length === 0 && (
        <div className="panel empty">
          {isFiltered ? (
            <>
              <strong>No audit event matches these filters</strong>
              Widen the time range, clear a field, or <Link href="/audit">show every event</Link>.
            </>
          ) : page.page > 1 ? (
            <>
              <strong>No more events</strong>
              <Link href="/audit">Back to the first page</Link>.
            </>
          ) : (
            <>
              <strong>Nothing recorded yet</strong>
              Sign-ins, <Link href="/connections">connection</Link> and <Link href="/policies">policy</Link>{" "}
              changes, review decisions and new tokens are recorded here as they happen.
            </>
          )}
        </div>
      )}
      {page && page.events.length > 0 && (
        <>
          <AuditTable page={page} />
          <nav className="pager" aria-label="Pages">
            {page.page > 1 && (
              <Link href={`/audit${queryWith(params, { page: String(page.page - 1) })}`}>← Newer</Link>
            )}
            <span className="small muted">Page {page.page}</span>
            {page.hasMore && (
              <Link href={`/audit${queryWith(params, { page: String(page.page + 1) })}`}>Older →</Link>
            )}
          </nav>
        </>
      )}
    </>
  );
}
