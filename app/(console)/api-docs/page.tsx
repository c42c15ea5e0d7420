// API reference, rendered on the server from the same list that builds /api/v1/openapi.json.
import { requirePrincipal } from "@/server/auth";
import { API_PATHS, requestSchema } from "@/server/http/openapi";

export const metadata = { title: "API" };

export default async function ApiDocsPage() {
  await requirePrincipal();
  return (
    <>
      <h1>API</h1>
      <p className="lead">
        Send <code>Authorization: Bearer &lt;token&gt;</code> with a service account&apos;s token. Errors are{" "}
        <code>{"{ error: { code, message } }"}</code>; a token over its per-minute budget gets 429 with{" "}
        <code>Retry-After</code>. Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
        Agents can use the MCP endpoint at <code>/mcp</code> with the same token.
      </p>
      <table className="data">
        <thead>
          <tr>
            <th>Method</th>
            <th>Path</th>
            <th>What it does</th>
            <th>Request body</th>
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
                {operation.permission && <div className="muted">needs {operation.permission}</div>}
                {operation.query && <div className="muted">query: {operation.query.join(", ")}</div>}
              </td>
              <td className="small mono">
                {operation.body ? (
                  <details>
                    <summary>JSON schema</summary>
                    <pre style={{ maxHeight: 320, maxWidth: 460, overflow: "auto", margin: "0.4rem 0 0" }}>
                      {JSON.stringify(requestSchema(operation.body), null, 2)}
                    </pre>
                  </details>
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
