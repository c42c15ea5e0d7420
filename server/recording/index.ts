/**
 * Session recording: sessions and their append-only events (statements with decisions and masked results,
 * terminal output and input). This file only re-exports; see sessions.ts, append.ts (with group-commit.ts),
 * read.ts, retention.ts, sessions-query.ts, sessions-liveness.ts (sessions lost with their process) and
 * search-index.ts (the text search's table, filled off the append's path).
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
export { type IndexerOptions, indexSearchText, settledEventId, startSearchIndexer } from "./search-index";
export {
  endSession,
  resumeSession,
  type SessionTarget,
  startSession,
  waitForSessionEnd,
} from "./sessions";
export {
  currentProcessId,
  holdSession,
  LOST_AFTER_SECONDS,
  LOST_SESSION_REASON,
  registerProcess,
  startSessionSweep,
  stopHeartbeat,
  sweepLostSessions,
} from "./sessions-liveness";
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
