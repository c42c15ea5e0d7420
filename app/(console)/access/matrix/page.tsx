// The access matrix: who can reach which connection, how and since when, what they did with it in 30 and 90
// days and which sensitive types their results touched. Filters live in the URL; CSV exports what is shown.
import Link from "next/link";
import { ZodError } from "zod";
import { AccessTabs } from "@/components/access/access-tabs";
import { formatTime } from "@/components/replay/format";
import {
  describePath,
  getAccessMatrix,
  getMatrixFilterOptions,
  type MatrixFilters,
  type MatrixPage,
} from "@/server/access-review";
import { requirePrincipal } from "@/server/auth";

export const metadata = { title: "Access matrix" };

type SearchParams = Record<string, string | string[] | undefined>;

function flatten(params: SearchParams): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first) flat[key] = first;
  }
  return flat;
}

function hrefWith(base: string, params: Record<string, string>, extra: Record<string, string>) {
  const query = new URLSearchParams({ ...params, ...extra });
  for (const [key, value] of [...query.entries()]) if (!value) query.delete(key);
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

function Options({ values }: { values: string[] }) {
  return (
    <>
      <option value="">any</option>
      {values.map((v) => (
        <option key={v} value={v}>
          {v}
        </option>
      ))}
    </>
  );
}

function FilterForm({
  filters,
  options,
}: {
  filters: Partial<MatrixFilters>;
  options: { groups: string[]; connections: string[]; types: string[] };
}) {
  return (
    <form method="get" action="/access/matrix" className="panel access-filters" aria-label="Filter access">
      <div className="field">
        <label htmlFor="m-principal">Principal</label>
        <input
          id="m-principal"
          name="principal"
          type="text"
          defaultValue={filters.principal ?? ""}
          placeholder="email or name contains"
        />
      </div>
      <div className="field">
        <label htmlFor="m-group">Group</label>
        <select id="m-group" name="group" defaultValue={filters.group ?? ""}>
          <Options values={options.groups} />
        </select>
      </div>
      <div className="field">
        <label htmlFor="m-connection">Connection</label>
        <select id="m-connection" name="connection" defaultValue={filters.connection ?? ""}>
          <Options values={options.connections} />
        </select>
      </div>
      <div className="field">
        <label htmlFor="m-type">Touched type</label>
        <select id="m-type" name="type" defaultValue={filters.type ?? ""}>
          <Options values={options.types} />
        </select>
      </div>
      <div className="field">
        <label htmlFor="m-days">Unused after (days)</label>
        <input id="m-days" name="unusedDays" type="number" min={1} defaultValue={filters.unusedDays ?? 30} />
      </div>
      <label className="check">
        <input type="checkbox" name="unused" value="1" defaultChecked={filters.unused ?? false} /> Only unused
        standing access
      </label>
      <div className="btn-row">
        <button type="submit" className="btn primary">
          Filter
        </button>
        <Link href="/access/matrix" className="btn">
          Clear
        </Link>
      </div>
    </form>
  );
}

function MatrixTable({ page }: { page: MatrixPage }) {
  return (
    <table className="data matrix" aria-label="Access matrix">
      <thead>
        <tr>
          <th>Principal</th>
          <th>Connection</th>
          <th>Access through</th>
          <th>Since</th>
          <th>Last used</th>
          <th className="num">Sessions 30 / 90 d</th>
          <th className="num">Statements 30 / 90 d</th>
          <th>Touched</th>
        </tr>
      </thead>
      <tbody>
        {page.rows.map((r) => (
          <tr key={`${r.principalId}:${r.connectionId}`} className={r.isUnused ? "flag-unused" : undefined}>
            <td>
              {r.principal}
              {r.principalKind === "service" && <span className="tag">service</span>}
            </td>
            <td>{r.connection}</td>
            <td>
              {r.paths.map((p) => (
                <div key={describePath(p)} className="small">
                  {describePath(p).replace(/until (.*)$/, (_m, end: string) => `until ${formatTime(end)}`)}
                </div>
              ))}
            </td>
            <td className="small">{formatTime(r.since)}</td>
            <td className="small">
              {r.lastUsedAt ? formatTime(r.lastUsedAt) : <span className="muted">never</span>}
              {r.isUnused && (
                <div>
                  <span className="tag warn">unused {page.unusedDays}+ days</span>
                </div>
              )}
            </td>
            <td className="num">
              {r.sessions30} / {r.sessions90}
            </td>
            <td className="num">
              {r.statements30} / {r.statements90}
            </td>
            <td>
              {r.touchedTypes.map((t) => (
                <span key={t} className="tag type">
                  {t}
                </span>
              ))}
              {r.touchedColumns.length > 0 && (
                <div className="small muted">columns: {r.touchedColumns.join(", ")}</div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function AccessMatrixPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requirePrincipal("audit:read");
  const params = flatten(await searchParams);
  let page: MatrixPage | undefined;
  let problem: string | undefined;
  try {
    page = await getAccessMatrix(principal, params);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    problem = err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  }
  const options = await getMatrixFilterOptions(principal);
  const { page: _page, ...filterParams } = params;
  const last = page ? Math.max(1, Math.ceil(page.total / page.pageSize)) : 1;
  const unusedCount = page?.rows.filter((r) => r.isUnused).length ?? 0;
  return (
    <>
      <h1>Access</h1>
      <AccessTabs current="/access/matrix" isAuditor />
      <p className="lead">
        Every person and service account by the connections they can reach: through which group or time-boxed
        grant, since when, when they last used it, how much, and which sensitive types their results touched
        (from the masking marks of recorded sessions, never the values). Standing access unused for{" "}
        {page?.unusedDays ?? 30} days is flagged.
      </p>
      <FilterForm
        filters={{ ...params, unused: params.unused === "1" } as Partial<MatrixFilters>}
        options={options}
      />
      {problem && <div className="alert error">Those filters do not work: {problem}</div>}
      {page && (
        <>
          <div className="pager">
            <strong>{page.total}</strong> {page.total === 1 ? "row" : "rows"}
            {unusedCount > 0 && <span className="tag warn">{unusedCount} unused on this page</span>}
            <a
              className="btn small"
              href={hrefWith("/api/v1/access", filterParams, { format: "csv" })}
              download
            >
              Export CSV
            </a>
          </div>
          {page.rows.length === 0 ? (
            <div className="panel empty">
              <strong>No access matches these filters</strong>
              Clear a field, or <Link href="/access/matrix">show everyone</Link>.
            </div>
          ) : (
            <MatrixTable page={page} />
          )}
          {last > 1 && (
            <div className="pager">
              {page.page > 1 && (
                <Link href={hrefWith("/access/matrix", filterParams, { page: String(page.page - 1) })}>
                  ← Previous
                </Link>
              )}
              <span className="muted">
                Page {page.page} of {last}
              </span>
              {page.page < last && (
                <Link href={hrefWith("/access/matrix", filterParams, { page: String(page.page + 1) })}>
                  Next →
                </Link>
              )}
            </div>
          )}
        </>
      )}
    </>
  );
}
