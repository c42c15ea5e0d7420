// One session: who, where, when and how it went, then its statements (SQL) or a replay (terminal), and an export
// of the recording (JSON or asciicast). Owners see their own sessions; audit:read sees every session.
import Link from "next/link";
import { notFound } from "next/navigation";
import "@xterm/xterm/css/xterm.css";
import "@/components/replay/replay.css";
import { formatDuration, formatTime } from "@/components/replay/format";
import { type RecordedEvent, toStatementViews } from "@/components/replay/session-events";
import { StatementTimeline } from "@/components/replay/statement-timeline";
import { TerminalPlayer } from "@/components/replay/terminal-player";
import { IntegrityBadge } from "@/components/sessions/integrity-badge";
import { sessionsApi } from "@/lib/api";
import { requirePrincipal } from "@/server/auth";
import { getSessionWithEvents } from "@/server/recording";
import { replayTimeline, viewableSession } from "@/server/terminal";

export const metadata = { title: "Session" };

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requirePrincipal("connections:use");
  const { id } = await params;
  const session = await viewableSession(principal, id);
  if (!session) notFound();
  const end = session.endedAt ?? session.lastActivityAt;
  const isTerminal = session.kind === "terminal";
  // A terminal recording can be hundreds of MB: the player loads it in chunks from the replay API.
  const timeline = isTerminal ? await replayTimeline(principal, id) : undefined;
  const found = isTerminal ? undefined : await getSessionWithEvents(id);
  const events: RecordedEvent[] = (found?.events ?? []).map((e) => ({
    id: e.id,
    at: e.at.toISOString(),
    type: e.type,
    data: e.data,
  }));
  const statements = isTerminal ? [] : toStatementViews(events);
  // A native client's description of itself, and the notice a sweep records when the session was lost with its
  // console process (server/recording/sessions-liveness.ts).
  const connect = events.find((e) => e.type === "connect")?.data;
  const isLost = events.some((e) => e.type === "notice" && e.data.lost === true);
  return (
    <>
      <p className="small">
        <Link href="/sessions">← Sessions</Link>
      </p>
      <div className="page-head">
        <h1>
          {isTerminal ? "Terminal" : "SQL"} session on {session.connectionName}
        </h1>
        <a className="btn" href={sessionsApi.exportHref(session.id)} download>
          {isTerminal ? "Export asciicast" : "Export JSON"}
        </a>
      </div>
      <div className="session-meta">
        <span>
          Who <strong>{session.principalLabel}</strong>
        </span>
        <span>
          Channel <strong>{session.channel}</strong>
        </span>
        {connect && (
          <span>
            Client{" "}
            <strong>
              {String(connect.applicationName || "no application name")} ·{" "}
              {String(connect.clientAddress ?? "")}
              {connect.tls === true ? " · TLS" : ""}
            </strong>
          </span>
        )}
        <span>
          Started <strong>{formatTime(session.startedAt)}</strong>
        </span>
        <span>
          Duration <strong>{formatDuration(Math.max(0, end.getTime() - session.startedAt.getTime()))}</strong>
        </span>
        <span>
          {isTerminal ? "Commands" : "Statements"} <strong>{session.statements}</strong> ({session.allowed}{" "}
          allowed, {session.held} held, {session.blocked} blocked)
        </span>
        <span>
          Masked fields <strong>{session.maskedFields}</strong>
        </span>
        <span>
          State{" "}
          <span
            className={`tag ${session.state === "live" ? "ok" : session.state === "failed" ? "off" : ""}`}
          >
            {isLost ? "ended" : session.state}
          </span>
          {isLost && <span className="muted"> its gateway process stopped</span>}
        </span>
      </div>
      <IntegrityBadge sessionId={session.id} />
      {timeline ? (
        <TerminalPlayer timeline={timeline} />
      ) : statements.length === 0 ? (
        <div className="panel empty">
          <strong>No statements in this session</strong>
          Statements run in it appear here with their decisions and masked results.
        </div>
      ) : (
        <>
          <h2>Statements</h2>
          <StatementTimeline statements={statements} />
        </>
      )}
    </>
  );
}
