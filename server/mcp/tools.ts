/**
 * The MCP tools an agent sees, bound to one caller's principal: list connections, describe a schema, run SQL
 * (through the same pipeline as the API, channel "mcp", so it is decided, masked and recorded) and follow a
 * held review. Tools return text an agent can relay; they never see a credential or an unmasked value.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Principal } from "@/server/auth";
import { listConnections } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { readReviewWaiting } from "@/server/http/long-poll";
import { MAX_WAIT_SECONDS } from "@/server/http/prefer";
import { runSql, type SqlOutcome } from "@/server/pipeline";
import { describeSchema } from "@/server/targets/catalog";

function text(value: unknown, isError = false): CallToolResult {
  const body = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return { content: [{ type: "text", text: body }], ...(isError && { isError: true }) };
}

/** Expected refusals become a tool error with the gateway's message; anything else is logged with an id. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof GatewayError) return text(`${err.code}: ${err.message}`, true);
    const id = randomUUID();
    console.error(`[portcullis] mcp tool error ${id}:`, err);
    return text(`Something went wrong on the gateway (error id ${id}).`, true);
  }
}

export function describeOutcome(outcome: SqlOutcome): CallToolResult {
  switch (outcome.status) {
    case "done":
      return text({
        status: "done",
        sessionId: outcome.sessionId,
        results: outcome.results.map((r) => ({
          command: r.command,
          columns: r.columns.map((c) => c.name),
          rows: r.rows,
          rowCount: r.rowCount,
          truncated: r.truncated,
          masked: r.masked,
        })),
      });
    case "pending_review":
      return text({
        status: "pending_review",
        reviewId: outcome.reviewId,
        sessionId: outcome.sessionId,
        message: `held for approval: ${outcome.reasons.map((r) => r.message).join("; ") || "this statement needs review"}. Ask an approver to approve review ${outcome.reviewId}, then call check_review.`,
      });
    case "blocked":
      return text(
        {
          status: "blocked",
          sessionId: outcome.sessionId,
          reasons: outcome.reasons.map((r) => ({
            statement: r.statement,
            class: r.class,
            rule: r.ruleName,
            message: r.message,
          })),
          ...(outcome.parseError && { parseError: outcome.parseError }),
        },
        true,
      );
    case "failed":
      return text({ status: "failed", sessionId: outcome.sessionId, error: outcome.error }, true);
  }
}

/** `signal` aborts when the agent's HTTP request goes away, ending any wait a tool is in. */
export function createMcpServer(principal: Principal, signal?: AbortSignal): McpServer {
  const server = new McpServer({ name: "portcullis", version: "1.0.0" });

  server.registerTool(
    "list_connections",
    {
      description: "Databases and servers you may use through the gateway (names, kinds; never credentials).",
    },
    () =>
      guarded(async () => {
        const connections = await listConnections(principal);
        return text(connections.map((c) => ({ name: c.name, kind: c.kind, description: c.description })));
      }),
  );

  server.registerTool(
    "describe_schema",
    {
      description: "Tables and columns of a PostgreSQL connection.",
      // Strict, like every request schema: an argument the tool does not take is refused by name.
      inputSchema: z.strictObject({
        connection: z.string().describe("connection name from list_connections"),
      }),
    },
    ({ connection }) => guarded(async () => text(await describeSchema(principal, connection))),
  );

  server.registerTool(
    "run_query",
    {
      description:
        "Run SQL on a connection. Policy decides: reads run and return masked rows; writes may be held for a person's approval (you get a reviewId); some statements are refused with reasons.",
      inputSchema: z.strictObject({
        connection: z.string().describe("connection name from list_connections"),
        sql: z.string().describe("the SQL to run"),
      }),
    },
    ({ connection, sql }) =>
      guarded(async () =>
        describeOutcome(await runSql({ principal, connectionName: connection, input: sql, channel: "mcp" })),
      ),
  );

  server.registerTool(
    "check_review",
    {
      description:
        "State of a held statement's review, and its masked result once approved and run. With waitSeconds, waits up to that long for the review to be decided and run.",
      inputSchema: z.strictObject({
        reviewId: z.uuid().describe("reviewId returned by run_query"),
        waitSeconds: z
          .number()
          .int()
          .min(0)
          .max(MAX_WAIT_SECONDS)
          .optional()
          .describe(`wait up to this many seconds (at most ${MAX_WAIT_SECONDS}) for a decision`),
      }),
    },
    ({ reviewId, waitSeconds }) =>
      guarded(async () => {
        const review = await readReviewWaiting(principal, reviewId, waitSeconds, signal);
        return text({
          reviewId: review.id,
          state: review.state,
          connection: review.connection,
          decisions: review.decisions,
          ...("result" in review && { result: review.result }),
        });
      }),
  );

  return server;
}
