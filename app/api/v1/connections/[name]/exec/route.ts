import { streamJsonResponse } from "@/server/http/json-stream";
import { withAuth } from "@/server/http/route";
import { runSql } from "@/server/pipeline";
import { execSchema } from "@/server/pipeline-schema";

export const POST = withAuth(
  { permission: "connections:use", body: execSchema },
  async ({ principal, params, body, request }) => {
    const outcome = await runSql({
      principal,
      connectionName: params.name ?? "",
      input: body.input,
      channel: request.headers.get("x-portcullis-client") === "editor" ? "editor" : "api",
      sessionId: body.sessionId,
      runId: body.runId,
      rowLimit: body.rowLimit,
      note: body.note,
    });
    switch (outcome.status) {
      case "done": {
        const last = outcome.results.at(-1);
        // Streamed: a large result is sent as it is serialized, not built as one string first.
        return streamJsonResponse({
          ...outcome,
          columns: last?.columns ?? [],
          rows: last?.rows ?? [],
          masked: last?.masked ?? [],
          truncated: last?.truncated ?? false,
        });
      }
      case "pending_review":
        return Response.json(outcome, { status: 202 });
      case "blocked":
        return Response.json(
          {
            ...outcome,
            error: {
              code: "blocked",
              message: outcome.reasons.find((r) => r.action === "deny")?.message ?? "blocked by policy",
            },
          },
          { status: 403 },
        );
      case "failed":
        return streamJsonResponse(outcome, { status: 422 });
    }
  },
);
