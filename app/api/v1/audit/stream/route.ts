import { parseLimit, parseStreamCursor, readAuditStream, streamCursorText } from "@/server/audit";
import { withAuth } from "@/server/http/route";

/**
 * The audit stream as NDJSON: audit events and session statements, commands and results after the cursor
 * `after` (empty: from the beginning), at most `limit` lines; each line and the X-Next-Cursor header carry
 * the cursor to resume from.
 */
export const GET = withAuth({ permission: "audit:read" }, async ({ request }) => {
  const params = new URL(request.url).searchParams;
  const unknown = [...params.keys()].filter((k) => k !== "after" && k !== "limit");
  const { lines, next } = await readAuditStream(
    parseStreamCursor(params.get("after"), unknown),
    parseLimit(params.get("limit")),
  );
  return new Response(lines.map((line) => `${JSON.stringify(line)}\n`).join(""), {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-next-cursor": streamCursorText(next),
    },
  });
});
