import { fileResponse, withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";
import { exportSession } from "@/server/terminal";

/** A session as a file: asciicast v2 for terminals (?input=1 adds keystrokes), JSON for SQL sessions. */
export const GET = withAuth(
  { permission: MEMBER_OR_AUDITOR_READ },
  async ({ principal, params, request }) => {
    const withInput = new URL(request.url).searchParams.get("input") === "1";
    const file = await exportSession(principal, params.id ?? "", { withInput });
    return fileResponse(file);
  },
);
