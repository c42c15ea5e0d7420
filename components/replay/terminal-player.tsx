"use client";

// Replays a recorded terminal session in xterm.js: play/pause, speed 1x to 16x, skip idle (waits longer than a
// second play as one second), a scrubber, a jump-to-time box, markers for commands, blocked commands (red),
// commands held for approval and masked output (click one to jump there), and search in the recorded output.
// It never holds the whole recording: a seek asks the replay API for the nearest keyframe and the output from
// there, and playing fetches the next chunk ahead of time. The recording holds masked output only.
import type { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ReplayEvent, sessionsApi } from "@/lib/api";
import type { MarkerKind, ReplayTimeline } from "@/server/terminal";
import { formatClock, parseClock } from "./format";
import { advanceClock, countDue } from "./replay-clock";

const SPEEDS = [1, 2, 4, 8, 16] as const;
/** Fetch the next chunk when less than this much loaded time is left to play. */
const PREFETCH_SECONDS = 10;

/** Marker kinds as the page's colours name them (decision classes shared with the statement timeline). */
const MARKER_CLASS: Record<MarkerKind, string> = {
  command: "allow",
  blocked: "deny",
  approval: "review",
  masked: "masked",
};
const MARKER_WORD: Record<MarkerKind, string> = {
  command: "allow",
  blocked: "deny",
  approval: "held for approval",
  masked: "masked",
};

interface Loaded {
  events: ReplayEvent[];
  /** events[0..applied) are on screen */
  applied: number;
  next: number | null;
  isFetching: boolean;
}

const written = (term: Terminal) => new Promise<void>((resolve) => term.write("", resolve));

export function TerminalPlayer({ timeline }: { timeline: ReplayTimeline }) {
  const sessionId = timeline.sessionId;
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const loadedRef = useRef<Loaded>({ events: [], applied: 0, next: 0, isFetching: false });
  const positionRef = useRef(0);
  /** Each seek gets a number; answers to older seeks are dropped. */
  const seekRef = useRef(0);
  /** A seek's answer is on its way: what is loaded is about to be replaced, so do not play from it. */
  const isSeekingRef = useRef(false);
  const [isReady, setIsReady] = useState(false);
  const [isPlaying, setIsPlaying] = useState(false);
  const [isLoading, setIsLoading] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [isSkippingIdle, setIsSkippingIdle] = useState(true);
  const [position, setPosition] = useState(0);
  const [query, setQuery] = useState("");
  const [jumpTo, setJumpTo] = useState("");
  const [note, setNote] = useState("");
  const length = Math.max(timeline.duration, 0.1);

  const moveTo = useCallback((at: number) => {
    positionRef.current = at;
    setPosition(at);
  }, []);

  /** Writes the loaded events due by `at` (forward only). */
  const applyUpTo = useCallback((at: number) => {
    const term = termRef.current;
    const loaded = loadedRef.current;
    if (!term) return;
    const due = countDue(loaded.events, loaded.applied, at);
    let text = "";
    for (const event of loaded.events.slice(loaded.applied, loaded.applied + due)) {
      if (event.type === "output") {
        text += event.data;
        continue;
      }
      if (text) term.write(text);
      text = "";
      const { cols, rows } = event;
      term.write("", () => term.resize(cols, rows));
    }
    if (text) term.write(text);
    loaded.applied += due;
  }, []);

  /** Fetches the chunk after what is loaded, dropping what is already on screen. */
  const fetchAhead = useCallback(async () => {
    const loaded = loadedRef.current;
    if (loaded.next === null || loaded.isFetching) return;
    loaded.isFetching = true;
    const seek = seekRef.current;
    const from = loaded.events.at(-1)?.t ?? positionRef.current;
    try {
      const chunk = await sessionsApi.replayAfter(sessionId, loaded.next, from);
      if (seek !== seekRef.current) return;
      loaded.events = [...loaded.events.slice(loaded.applied), ...chunk.events];
      loaded.applied = 0;
      loaded.next = chunk.next;
    } catch (error) {
      setNote(error instanceof Error ? error.message : String(error));
      setIsPlaying(false);
    } finally {
      loaded.isFetching = false;
    }
  }, [sessionId]);

  /** Shows the screen at `at`: from what is loaded when moving forward, else from the nearest keyframe. */
  const seek = useCallback(
    async (at: number) => {
      const target = Math.min(Math.max(at, 0), length);
      moveTo(target);
      const loaded = loadedRef.current;
      const lastApplied = loaded.events[loaded.applied - 1]?.t ?? -1;
      const lastLoaded = loaded.events.at(-1)?.t ?? -1;
      const isForwardInLoaded =
        !isSeekingRef.current &&
        loaded.applied > 0 &&
        target >= lastApplied &&
        (target <= lastLoaded || loaded.next === null);
      if (isForwardInLoaded) {
        applyUpTo(target);
        return;
      }
      const term = termRef.current;
      if (!term) return;
      const mine = ++seekRef.current;
      isSeekingRef.current = true;
      setIsLoading(true);
      try {
        const chunk = await sessionsApi.replayAt(sessionId, target);
        if (mine !== seekRef.current) return;
        await written(term);
        term.reset();
        const size = chunk.keyframe ?? chunk;
        term.resize(size.cols, size.rows);
        if (chunk.keyframe) term.write(chunk.keyframe.screen);
        loadedRef.current = { events: chunk.events, applied: 0, next: chunk.next, isFetching: false };
        applyUpTo(positionRef.current);
      } catch (error) {
        setNote(error instanceof Error ? error.message : String(error));
      } finally {
        if (mine === seekRef.current) {
          isSeekingRef.current = false;
          setIsLoading(false);
        }
      }
    },
    [applyUpTo, sessionId, length, moveTo],
  );

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    let isDisposed = false;
    let term: Terminal | undefined;
    (async () => {
      const { Terminal: XTerm } = await import("@xterm/xterm");
      if (isDisposed) return;
      term = new XTerm({
        cols: timeline.cols,
        rows: timeline.rows,
        disableStdin: true,
        cursorBlink: false,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
        fontSize: 13,
        scrollback: 5000,
        theme: { background: "#0b0f17", foreground: "#e6e9ef" },
      });
      term.open(host);
      termRef.current = term;
      loadedRef.current = { events: [], applied: 0, next: 0, isFetching: false };
      setIsReady(true);
    })();
    return () => {
      isDisposed = true;
      termRef.current = null;
      term?.dispose();
    };
  }, [timeline.cols, timeline.rows]);

  useEffect(() => {
    if (isReady) void seek(0);
  }, [isReady, seek]);

  useEffect(() => {
    if (!isPlaying) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const elapsed = (now - last) / 1000;
      last = now;
      const loaded = loadedRef.current;
      const nextEvent = loaded.events[loaded.applied];
      const lastLoaded = loaded.events.at(-1)?.t ?? positionRef.current;
      if (loaded.next !== null && lastLoaded - positionRef.current < PREFETCH_SECONDS) void fetchAhead();
      let next = advanceClock(positionRef.current, elapsed, speed, nextEvent?.t, isSkippingIdle);
      // Waiting for the next chunk: hold at the end of what is loaded.
      if (loaded.next !== null && next > lastLoaded) next = Math.max(positionRef.current, lastLoaded);
      if (next >= length) {
        moveTo(length);
        applyUpTo(length);
        setIsPlaying(false);
        return;
      }
      moveTo(next);
      applyUpTo(next);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [isPlaying, speed, isSkippingIdle, length, applyUpTo, fetchAhead, moveTo]);

  const jump = (at: number) => {
    setIsPlaying(false);
    void seek(at);
  };

  const togglePlay = () => {
    if (!isPlaying && positionRef.current >= length) void seek(0);
    setIsPlaying(!isPlaying);
  };

  const find = async () => {
    const needle = query.trim();
    if (!needle) return;
    try {
      const { hits } = await sessionsApi.search(sessionId, needle);
      const hit = hits.find((h) => h.t > positionRef.current) ?? hits[0];
      if (!hit) {
        setNote(`"${needle}" does not appear in the recording`);
        return;
      }
      const index = hits.indexOf(hit) + 1;
      const count = hits.length >= 200 ? "200+" : String(hits.length);
      setNote(`found at ${formatClock(hit.t)} (${index} of ${count}): ${hit.context}`);
      jump(hit.t);
    } catch (error) {
      setNote(error instanceof Error ? error.message : String(error));
    }
  };

  const goToTime = () => {
    const at = parseClock(jumpTo);
    if (at === undefined) {
      setNote(`"${jumpTo}" is not a time: use m:ss or h:mm:ss`);
      return;
    }
    setNote(at > length ? `the recording is ${formatClock(length)} long` : "");
    jump(at);
  };

  const commands = timeline.markers.filter((m) => m.kind !== "masked");
  return (
    <section
      className="player"
      aria-label="Terminal replay"
      data-position={String(position)}
      aria-busy={isLoading}
    >
      <div className="player-screen">
        <div ref={hostRef} data-testid="player-screen" />
      </div>
      <div className="player-track">
        {timeline.markers.map((m, i) => (
          <button
            // biome-ignore lint/suspicious/noArrayIndexKey: markers are positional and may repeat
            key={i}
            type="button"
            className={`player-marker ${MARKER_CLASS[m.kind]}`}
            style={{ left: `${(m.t / length) * 100}%` }}
            title={`${formatClock(m.t)} ${MARKER_WORD[m.kind]}: ${m.label}${m.reason ? ` (${m.reason})` : ""}`}
            aria-label={`Jump to ${m.label} (${MARKER_WORD[m.kind]})`}
            onClick={() => jump(m.t)}
          />
        ))}
        <input
          type="range"
          aria-label="Position"
          min={0}
          max={length}
          step={0.05}
          value={Math.min(position, length)}
          onChange={(e) => jump(Number(e.target.value))}
        />
      </div>
      <div className="player-controls">
        <button type="button" className="btn small primary" onClick={togglePlay} disabled={!isReady}>
          {isPlaying ? "Pause" : "Play"}
        </button>
        <span className="mono">
          {formatClock(position)} / {formatClock(length)}
        </span>
        <label>
          Speed{" "}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}x
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={isSkippingIdle}
            onChange={(e) => setIsSkippingIdle(e.target.checked)}
          />{" "}
          Skip idle
        </label>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            goToTime();
          }}
        >
          <input
            type="text"
            aria-label="Jump to time"
            placeholder="m:ss or h:mm:ss"
            size={10}
            value={jumpTo}
            onChange={(e) => setJumpTo(e.target.value)}
          />{" "}
          <button type="submit" className="btn small">
            Go
          </button>
        </form>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void find();
          }}
        >
          <input
            type="text"
            aria-label="Search the recording"
            placeholder="search output"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />{" "}
          <button type="submit" className="btn small">
            Find
          </button>
        </form>
        <span className="small muted player-note" role="status">
          {isLoading ? "loading…" : note}
        </span>
      </div>
      {commands.length > 0 && (
        <ol className="player-commands" aria-label="Commands">
          {commands.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: commands are positional and may repeat
            <li key={i} className={MARKER_CLASS[c.kind]}>
              <button type="button" onClick={() => jump(c.t)}>
                {formatClock(c.t)}
              </button>{" "}
              <code>{c.label}</code>{" "}
              <span
                className={`tag ${c.kind === "command" ? "ok" : c.kind === "blocked" ? "off" : "review"}`}
              >
                {MARKER_WORD[c.kind]}
              </span>
              {c.reason && c.kind !== "command" && <span className="small muted"> {c.reason}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
