import { streamEvidenceBundle } from "@/server/audit";
import { fileResponse, withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

/** The session's evidence bundle (session, events, related audit events, integrity proof) as a JSON file. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params }) => {
  const bundle = await streamEvidenceBundle(principal, params.id ?? "");
  return fileResponse({ contentType: "application/json", filename: bundle.filename, body: bundle.body });
});
