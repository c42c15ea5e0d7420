import { withAuth } from "@/server/http/route";
import { readReplay } from "@/server/terminal";

/**
 * A terminal session's replay in chunks: `?at=<seconds>` gives the nearest keyframe at or before that time and
 * the output from it through the time plus a window ahead; `?after=<next>&from=<seconds>` the next chunk.
 */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params, request }) =>
  readReplay(principal, params.id ?? "", new URL(request.url).searchParams),
);
