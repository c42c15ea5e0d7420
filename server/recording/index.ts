/**
 * Session recording: sessions and their append-only events (statements with decisions and masked results,
 * terminal output and input). This file only re-exports; see sessions.ts, append.ts (with group-commit.ts),
 * read.ts, retention.ts and sessions-query.ts.
 */
export {
  appendSessionEvent,
  type SessionCounters,
  startSessionWithEvent,
} from "./append";
export { type GroupCommitStats, groupCommitStats } from "./group-commit";
export {
  type EventPageOptions,
  getSessionWithEvents,
  listStatementHistory,
  readSessionEvents,
  sessionEventPage,
  visibleSession,
} from "./read";
export { endSession, resumeSession, type SessionTarget, startSession } from "./sessions";
export {
  escapeLike,
  parseFilterTime,
  parseSessionFilters,
  querySessions,
  SESSION_PAGE_SIZE,
  type SessionFilters,
  type SessionPage,
  type SessionSummary,
} from "./sessions-query";
