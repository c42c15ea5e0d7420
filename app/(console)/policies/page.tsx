import { MaskingSettingsEditor } from "@/components/policies/masking-settings";
import { NewRule, RuleTable, TryStatement } from "@/components/policies/policy-admin";
import { listGroups, requirePrincipal } from "@/server/auth";
import { listConnections } from "@/server/connections";
import { DETECTOR_INFO } from "@/server/masking";
import { defaultRules, listRules } from "@/server/policy";

export const metadata = { title: "Policies" };

export default async function PoliciesPage() {
  const principal = await requirePrincipal("policies:manage");
  const [rules, groups, connections] = await Promise.all([
    listRules(),
    listGroups(),
    listConnections(principal),
  ]);
  const databases = connections.filter((c) => c.kind === "postgres").map((c) => c.name);
  return (
    <>
      <h1>Policies</h1>
      <p className="lead">
        Every statement is parsed with the PostgreSQL parser and given a class. For each statement the most
        specific matching rule decides (connection, then groups, then tables or functions, then classes); ties
        go to the stricter action. Changes apply to the next statement.
      </p>
      <h2>Try a statement</h2>
      <div className="panel">
        <TryStatement connections={databases} />
      </div>
      <h2>Your rules</h2>
      <RuleTable
        rules={rules}
        connections={connections.map((c) => c.name)}
        groups={groups.map((g) => g.name)}
      />
      <h2>Add a rule</h2>
      <div className="panel">
        <NewRule connections={connections.map((c) => c.name)} groups={groups.map((g) => g.name)} />
      </div>
      <h2 id="masking">Masking</h2>
      <p className="muted small">
        Values of these types are redacted in results and terminal output before they reach a screen, the API,
        a log or a recording. {DETECTOR_INFO.length} detectors, each with a validator (checksums, issuer
        prefixes, context) so look-alikes stay readable.
      </p>
      <div className="panel">
        <MaskingSettingsEditor
          connections={connections.map((c) => c.name)}
          detectors={DETECTOR_INFO.map((d) => ({ ...d }))}
        />
      </div>
      <h2>Default rules</h2>
      <p className="muted small">Apply where none of your rules matches a statement.</p>
      <table className="data">
        <thead>
          <tr>
            <th>Class</th>
            <th>Action</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {defaultRules().map((r) => (
            <tr key={r.id}>
              <td>
                <code>{r.classes.join(", ")}</code>
              </td>
              <td>
                <span
                  className={`tag ${r.action === "allow" ? "ok" : r.action === "deny" ? "off" : "secret"}`}
                >
                  {r.action}
                </span>
              </td>
              <td className="small">{r.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
