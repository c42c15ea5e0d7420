/**
 * Browser terminals: SSH shells through the gateway, inspected (command rules at Enter), masked and recorded.
 * The WebSocket endpoint lives in ./socket.ts and is loaded by server/realtime; this is the surface for
 * route handlers and pages.
 */
import "server-only";

export { registerTerminalChannel, TERMINAL_CHANNEL } from "./approved-lines";
export { exportSession, type SessionExport, toAsciicast } from "./export";
export { isTerminalLive, startTerminalSweep, stopTerminalSignals, sweepStaleTerminals } from "./presence";
export { endLiveTerminal, type LiveTerminal, listLiveTerminals } from "./registry";
export {
  type MarkerKind,
  type ReplayChunk,
  type ReplayEvent,
  type ReplayKeyframe,
  type ReplayTimeline,
  readReplay,
  replayAfter,
  replayAt,
  replayTimeline,
  type SearchHit,
  searchReplay,
  type TimelineMarker,
  viewableSession,
} from "./replay";
