"use client";

// Replays a recorded terminal session in xterm.js: play/pause, speed 1x to 16x, skip idle (gaps longer than a
// second play as one second), a scrubber, command markers (blocked ones red; click to jump), and search in the
// recorded output. Seeking resets the terminal and writes all output up to that time, which is fine for the
// session sizes the recorder keeps. The recording holds masked output only; nothing here talks to a target.
import type { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { formatClock } from "./format";
import { countUpTo, placeOnClock } from "./replay-clock";
import type { TerminalRecording } from "./session-events";

const SPEEDS = [1, 2, 4, 8, 16] as const;
export function TerminalPlayer({ recording }: { recording: TerminalRecording }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const writtenRef = useRef(0);
  const positionRef = useRef(0);
  const [isReady, setIsReady] = useState(false);
  const [isPlaying, setIsPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [isSkippingIdle, setIsSkippingIdle] = useState(true);
  const [position, setPosition] = useState(0);
  const [query, setQuery] = useState("");
  const [searchNote, setSearchNote] = useState("");

  const timeline = useMemo(() => placeOnClock(recording, isSkippingIdle), [recording, isSkippingIdle]);

  /** Writes the output due by `at`: what is new when moving forward, everything again when moving back. */
  const renderUpTo = useCallback(
    (at: number) => {
      const term = termRef.current;
      positionRef.current = at;
      setPosition(at);
      if (!term) return;
      const due = countUpTo(timeline.output, at);
      if (due < writtenRef.current) {
        term.reset();
        writtenRef.current = 0;
      }
      if (due > writtenRef.current) {
        term.write(
          timeline.output
            .slice(writtenRef.current, due)
            .map((o) => o.data)
            .join(""),
        );
        writtenRef.current = due;
      }
    },
    [timeline],
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
        cols: recording.cols,
        rows: recording.rows,
        disableStdin: true,
        cursorBlink: false,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
        fontSize: 13,
        scrollback: 5000,
        theme: { background: "#0b0f17", foreground: "#e6e9ef" },
      });
      term.open(host);
      termRef.current = term;
      writtenRef.current = 0;
      setIsReady(true);
    })();
    return () => {
      isDisposed = true;
      termRef.current = null;
      term?.dispose();
    };
  }, [recording.cols, recording.rows]);

  // Switching skip-idle moves events on the clock: stay on the same output, re-rendered from the start.
  useEffect(() => {
    if (!isReady) return;
    termRef.current?.reset();
    writtenRef.current = 0;
    renderUpTo(Math.min(positionRef.current, timeline.length));
  }, [isReady, timeline, renderUpTo]);

  useEffect(() => {
    if (!isPlaying) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const next = positionRef.current + ((now - last) / 1000) * speed;
      last = now;
      if (next >= timeline.length) {
        renderUpTo(timeline.length);
        setIsPlaying(false);
        return;
      }
      renderUpTo(next);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [isPlaying, speed, timeline, renderUpTo]);

  const togglePlay = () => {
    if (!isPlaying && positionRef.current >= timeline.length) renderUpTo(0);
    setIsPlaying(!isPlaying);
  };

  const find = () => {
    const needle = query.trim().toLowerCase();
    if (!needle) return;
    const from = countUpTo(timeline.output, positionRef.current);
    const order = [...timeline.output.slice(from), ...timeline.output.slice(0, from)];
    const hit = order.find((o) => o.data.toLowerCase().includes(needle));
    if (!hit) {
      setSearchNote(`"${query.trim()}" does not appear in the recording`);
      return;
    }
    setIsPlaying(false);
    setSearchNote(`found at ${formatClock(hit.at)}`);
    renderUpTo(hit.at);
  };

  return (
    <section className="player" aria-label="Terminal replay">
      <div className="player-screen">
        <div ref={hostRef} data-testid="player-screen" />
      </div>
      <div className="player-track">
        {timeline.commands.map((c, i) => (
          <button
            // biome-ignore lint/suspicious/noArrayIndexKey: commands are positional and may repeat
            key={i}
            type="button"
            className={`player-marker ${c.decision}`}
            style={{ left: `${(c.at / timeline.length) * 100}%` }}
            title={`${c.decision}: ${c.command}`}
            aria-label={`Jump to ${c.command} (${c.decision})`}
            onClick={() => {
              setIsPlaying(false);
              renderUpTo(c.at);
            }}
          />
        ))}
        <input
          type="range"
          aria-label="Position"
          min={0}
          max={timeline.length}
          step={0.05}
          value={Math.min(position, timeline.length)}
          onChange={(e) => renderUpTo(Number(e.target.value))}
        />
      </div>
      <div className="player-controls">
        <button type="button" className="btn small primary" onClick={togglePlay} disabled={!isReady}>
          {isPlaying ? "Pause" : "Play"}
        </button>
        <span className="mono">
          {formatClock(position)} / {formatClock(timeline.length)}
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
            find();
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
          </button>{" "}
          <span className="small muted" role="status">
            {searchNote}
          </span>
        </form>
      </div>
      {timeline.commands.length > 0 && (
        <ol className="player-commands" aria-label="Commands">
          {timeline.commands.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: commands are positional and may repeat
            <li key={i} className={c.decision}>
              <button
                type="button"
                onClick={() => {
                  setIsPlaying(false);
                  renderUpTo(c.at);
                }}
              >
                {formatClock(c.at)}
              </button>{" "}
              <code>{c.command}</code>{" "}
              <span
                className={`tag ${c.decision === "allow" ? "ok" : c.decision === "deny" ? "off" : "review"}`}
              >
                {c.decision}
              </span>
              {c.reason && c.decision !== "allow" && <span className="small muted"> {c.reason}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
