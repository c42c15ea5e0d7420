// API reference, rendered on the server from the same list that builds /api/v1/openapi.json.
import { requirePrincipal } from "@/server/auth";
import { API_PATHS, type ResponseSpec, replySchema, requestSchema } from "@/server/http/openapi";
import { permissionText } from "@/server/principal";

export const metadata = { title: "API" };

function SchemaDetails({ label, schema }: { label: string; schema: unknown }) {
  return (
    <details>
      <summary>{label}</summary>
      <pre style={{ maxHeight: 320, maxWidth: 460, overflow: "auto", margin: "0.4rem 0 0" }}>
        {JSON.stringify(schema, null, 2)}
      </pre>
    </details>
  );
}

function Replies({ responses }: { responses: Record<string, ResponseSpec> | undefined }) {
  const entries = Object.entries(responses ?? {});
  if (entries.length === 0) return <span className="muted">200 success</span>;
  return (
    <>
      {entries.map(([status, spec]) => {
        const description = typeof spec === "string" ? spec : spec.description;
        const names = typeof spec === "string" || spec.schema === undefined ? [] : [spec.schema].flat();
        return (
          <div key={status} style={{ marginBottom: 4 }}>
            <code>{status}</code> <span className="muted">{description}</span>
            {names.map((name) => (
              <SchemaDetails key={name} label={name} schema={replySchema(name)} />
            ))}
          </div>
        );
      })}
    </>
  );
}

export default async function ApiDocsPage() {
  await requirePrincipal();
  return (
    <>
      <h1>API</h1>
      <p className="lead">
        Send <code>Authorization: Bearer &lt;token&gt;</code> with a service account&apos;s token, or with an
        access token from <code>POST /api/v1/oauth/token</code> (OAuth 2.0 client credentials). Errors are{" "}
        <code>{"{ error: { code, message } }"}</code>; a 403 names the missing permission; a token over its
        per-minute budget gets 429 with <code>Retry-After</code>. Held requests answer 202 with a{" "}
        <code>reviewId</code>; send <code>Prefer: wait=N</code> (at most 60 s) to wait for the decision and
        the result. Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>. Agents can use
        the MCP endpoint at <code>/mcp</code> with the same tokens. A service account&apos;s role decides what
        its tokens may do: <code>member</code> holds connections:use; <code>auditor</code> holds audit:read
        (the audit log and its stream, every session, access reviews) and runs nothing; <code>admin</code>{" "}
        holds every permission, and its tokens expire within 90 days. An OAuth scope narrows a token further.
      </p>
      <table className="data">
        <thead>
          <tr>
            <th>Method</th>
            <th>Path</th>
            <th>What it does</th>
            <th>Request body</th>
            <th>Replies</th>
          </tr>
        </thead>
        <tbody>
          {API_PATHS.map(({ path, method, operation }) => (
            <tr key={`${method} ${path}`}>
              <td>
                <code>{method.toUpperCase()}</code>
              </td>
              <td className="mono">{path}</td>
              <td className="small">
                {operation.summary}
                {operation.permission && (
                  <div className="muted">
                    needs {permissionText(operation.permission)}
                    {operation.isForPeopleOnly && ", as a person"}
                  </div>
                )}
                {operation.isPublic && <div className="muted">no bearer token: client credentials</div>}
                {operation.isLongPoll && <div className="muted">honours Prefer: wait=N</div>}
                {operation.query && <div className="muted">query: {operation.query.join(", ")}</div>}
              </td>
              <td className="small mono">
                {operation.body ? (
                  <SchemaDetails
                    label={operation.formBody ? "form or JSON" : "JSON schema"}
                    schema={requestSchema(operation.body)}
                  />
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
              <td className="small">
                <Replies responses={operation.responses} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
