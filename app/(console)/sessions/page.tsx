// The sessions list: who did what through which connection, with a filter form whose fields live in the URL
// (so a filtered list can be shared), 50 sessions a page, newest first, paged by cursor (older / newer).
import Link from "next/link";
import { ZodError } from "zod";
import "@/components/replay/replay.css";
import { formatDuration, formatTime } from "@/components/replay/format";
import { EndSessionButton } from "@/components/sessions/end-session-button";
import { requirePrincipal } from "@/server/auth";
import { hasPermission } from "@/server/principal";
import {
  parseSessionFilters,
  querySessions,
  type SessionFilters,
  type SessionPage,
} from "@/server/recording";

export const metadata = { title: "Sessions" };

type SearchParams = Record<string, string | string[] | undefined>;

const PAGING = new Set(["page", "before", "after"]);

/** The same filters, one page older (`before`) or newer (`after`) than a cursor. */
function pageHref(params: SearchParams, cursor: { before?: string; after?: string }): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (!PAGING.has(key) && first) query.set(key, first);
  }
  if (cursor.before) query.set("before", cursor.before);
  if (cursor.after) query.set("after", cursor.after);
  const text = query.toString();
  return text ? `/sessions?${text}` : "/sessions";
}

function FilterForm({
  filters,
  isAllSessions,
}: {
  filters: Partial<SessionFilters>;
  isAllSessions: boolean;
}) {
  return (
    <form method="get" action="/sessions" className="panel session-filters" aria-label="Filter sessions">
      {isAllSessions && (
        <div className="field">
          <label htmlFor="f-user">User</label>
          <input
            id="f-user"
            name="user"
            type="text"
            defaultValue={filters.user ?? ""}
            placeholder="email contains"
          />
        </div>
      )}
      <div className="field">
        <label htmlFor="f-connection">Connection</label>
        <input id="f-connection" name="connection" type="text" defaultValue={filters.connection ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="f-kind">Kind</label>
        <select id="f-kind" name="kind" defaultValue={filters.kind ?? ""}>
          <option value="">any</option>
          <option value="sql">SQL</option>
          <option value="terminal">terminal</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-channel">Channel</label>
        <select id="f-channel" name="channel" defaultValue={filters.channel ?? ""}>
          <option value="">any</option>
          <option value="editor">editor</option>
          <option value="api">API</option>
          <option value="mcp">MCP</option>
          <option value="native">native</option>
          <option value="terminal">terminal</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-decision">Decisions</label>
        <select id="f-decision" name="decision" defaultValue={filters.decision ?? ""}>
          <option value="">any</option>
          <option value="held">has held</option>
          <option value="blocked">has blocked</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-from">From (UTC)</label>
        <input id="f-from" name="from" type="date" defaultValue={filters.from ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="f-to">To (UTC)</label>
        <input id="f-to" name="to" type="date" defaultValue={filters.to ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="f-q">Text in statements</label>
        <input id="f-q" name="q" type="text" defaultValue={filters.q ?? ""} placeholder="or commands" />
      </div>
      <div className="field">
        <label htmlFor="f-column">Touched column</label>
        <input
          id="f-column"
          name="column"
          type="text"
          defaultValue={filters.column ?? ""}
          placeholder="e.g. email"
        />
      </div>
      <div className="btn-row">
        <button type="submit" className="btn primary">
          Filter
        </button>
        <Link href="/sessions" className="btn">
          Clear
        </Link>
      </div>
    </form>
  );
}

/** A live session an admin can end from here: a native client's or a terminal's (editor and API ones have no client). */
function endableChannel(s: SessionPage["sessions"][number]): "native" | "terminal" | undefined {
  if (s.state !== "live") return undefined;
  return s.channel === "native" || s.channel === "terminal" ? s.channel : undefined;
}

function EndControl({ session }: { session: SessionPage["sessions"][number] }) {
  const channel = endableChannel(session);
  return channel ? (
    <EndSessionButton sessionId={session.id} channel={channel} who={session.principalLabel} />
  ) : null;
}

function SessionTable({ page, canEnd }: { page: SessionPage; canEnd: boolean }) {
  return (
    <table className="data">
      <thead>
        <tr>
          <th>Who</th>
          <th>Connection</th>
          <th>Kind</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Statements</th>
          <th>Allowed / held / blocked</th>
          <th>Masked</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        {page.sessions.map((s) => (
          <tr key={s.id}>
            <td className="small">
              <Link href={`/sessions/${s.id}`}>{s.principalLabel}</Link>
            </td>
            <td className="small">{s.connectionName}</td>
            <td className="small">
              {s.kind === "sql" ? "SQL" : "terminal"} <span className="muted">· {s.channel}</span>
              {s.client && (
                <div className="muted session-client" title="the client's application_name and address">
                  {s.client.applicationName || "no application name"} ·{" "}
                  {s.client.address || "unknown address"}
                </div>
              )}
            </td>
            <td className="small">{formatTime(s.startedAt)}</td>
            <td className="small">{formatDuration(s.durationMs)}</td>
            <td className="small">
              {s.statements} {s.kind === "terminal" ? "commands" : ""}
            </td>
            <td className="small session-counts">
              {s.allowed} / <span className={s.held > 0 ? "held" : ""}>{s.held}</span> /{" "}
              <span className={s.blocked > 0 ? "blocked" : ""}>{s.blocked}</span>
            </td>
            <td className="small">{s.maskedFields}</td>
            <td className="session-state">
              <span className={`tag ${s.state === "live" ? "ok" : s.state === "failed" ? "off" : ""}`}>
                {s.endReason ? "ended" : s.state}
              </span>
              {s.endReason && <div className="small muted">{s.endReason}</div>}
              {canEnd && <EndControl session={s} />}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function SessionsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requirePrincipal("connections:use");
  const params = await searchParams;
  let filters: SessionFilters | undefined;
  let page: SessionPage | undefined;
  let problem: string | undefined;
  try {
    filters = parseSessionFilters(params);
    page = await querySessions(principal, filters);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    problem = err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  }
  const isAllSessions = page?.isAllSessions ?? false;
  const isFiltered = Object.entries(params).some(([key, value]) => !PAGING.has(key) && Boolean(value));
  return (
    <>
      <h1>Sessions</h1>
      <p className="lead">
        {isAllSessions ? "Everyone's" : "Your"} SQL (editor, API, MCP, psql and drivers) and terminal
        sessions, newest first. Open one to see its statements with their decisions and masked results, or to
        replay a terminal.
      </p>
      <FilterForm filters={filters ?? {}} isAllSessions={isAllSessions || !page} />
      {problem && <div className="alert error">Those filters do not work: {problem}</div>}
      {page && page.sessions.length === 0 && (
        <div className="panel empty">
          {isFiltered ? (
            <>
              <strong>No session matches these filters</strong>
              Widen the time range, clear a field, or <Link href="/sessions">show all sessions</Link>.
            </>
          ) : page.prevCursor ? (
            <>
              <strong>No more sessions</strong>
              <Link href="/sessions">Back to the first page</Link>.
            </>
          ) : (
            <>
              <strong>No sessions yet</strong>
              Run a statement in the <Link href="/editor">SQL editor</Link> or open a{" "}
              <Link href="/terminal">terminal</Link>; every session is recorded and listed here.
            </>
          )}
        </div>
      )}
      {page && page.sessions.length > 0 && (
        <>
          <SessionTable page={page} canEnd={hasPermission(principal, "connections:manage")} />
          <nav className="pager" aria-label="Pages">
            {page.prevCursor && <Link href={pageHref(params, { after: page.prevCursor })}>← Newer</Link>}
            {page.prevCursor && <Link href={pageHref(params, {})}>Newest</Link>}
            {page.nextCursor && <Link href={pageHref(params, { before: page.nextCursor })}>Older →</Link>}
          </nav>
        </>
      )}
    </>
  );
}
