import { withAuth } from "@/server/http/route";
import { searchReplay } from "@/server/terminal";

/** `?q=text`: where the text appears in a terminal session's recorded (masked) output, as times. */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params, request }) => ({
  hits: await searchReplay(principal, params.id ?? "", new URL(request.url).searchParams.get("q") ?? ""),
}));
