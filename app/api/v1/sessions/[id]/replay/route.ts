import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";
import { readReplay } from "@/server/terminal";

/**
 * A terminal session's replay in chunks: `?at=<seconds>` gives the nearest keyframe at or before that time and
 * the output from it through the time plus a window ahead; `?after=<next>&from=<seconds>` the next chunk.
 */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params, request }) =>
  readReplay(principal, params.id ?? "", new URL(request.url).searchParams),
);
