import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";
import { searchReplay } from "@/server/terminal";

/** `?q=text`: where the text appears in a terminal session's recorded (masked) output, as times. */
export const GET = withAuth(
  { permission: MEMBER_OR_AUDITOR_READ },
  async ({ principal, params, request }) => ({
    hits: await searchReplay(principal, params.id ?? "", new URL(request.url).searchParams.get("q") ?? ""),
  }),
);
