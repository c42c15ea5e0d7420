import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";
import { replayTimeline } from "@/server/terminal";

/** A terminal session's length, size, markers (commands, blocked, held for approval, masked) and keyframes. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params }) =>
  replayTimeline(principal, params.id ?? ""),
);
