"use client";

import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { connectionsApi, type MaskingSettings } from "@/lib/api";

interface Detector {
  type: string;
  label: string;
  category: string;
  validation: string;
}

type Settings = MaskingSettings;

const CATEGORY_LABELS: Record<string, string> = {
  financial: "Financial",
  contact: "Contact",
  network: "Network",
  secret: "Keys and secrets",
  national_id: "National identifiers",
};

export function MaskingSettingsEditor({
  connections,
  detectors,
}: {
  connections: string[];
  detectors: Detector[];
}) {
  const [connection, setConnection] = useState(connections[0] ?? "");
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async (name: string) => {
    setError(null);
    setSettings(null);
    try {
      setSettings((await connectionsApi.masking(name)).masking);
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    if (connection) void load(connection);
  }, [connection, load]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const enabled = detectors.map((d) => d.type).filter((t) => form.get(`on:${t}`) === "on");
    const styles: Record<string, string> = {};
    for (const d of detectors) {
      const value = String(form.get(`style:${d.type}`) ?? "");
      if (value && value !== "default") styles[d.type] = value;
    }
    const columnRules = String(form.get("columnRules") ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [pattern = "", type = ""] = line.split("=").map((p) => p.trim());
        return { pattern, type };
      });
    setError(null);
    setNotice(null);
    try {
      const { masking } = await connectionsApi.setMasking(connection, {
        ...(enabled.length !== detectors.length && { enabledTypes: enabled }),
        styles,
        defaultStyle: String(form.get("defaultStyle") ?? "full"),
        columnRules,
      });
      setSettings(masking);
      setNotice("Saved. The next result on this connection uses these settings.");
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function reset() {
    try {
      setSettings((await connectionsApi.resetMasking(connection)).masking);
      setNotice("Back to the defaults.");
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (connections.length === 0)
    return <p className="muted">Add a connection to set how its results are masked.</p>;
  const categories = [...new Set(detectors.map((d) => d.category))];
  return (
    <div className="stack" style={{ display: "grid", gap: "0.9rem" }}>
      <div className="field" style={{ maxWidth: 320 }}>
        <label htmlFor="masking-connection">Connection</label>
        <select id="masking-connection" value={connection} onChange={(e) => setConnection(e.target.value)}>
          {connections.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
      <Alerts error={error} notice={notice} />
      {settings && (
        <form
          key={`${connection}:${JSON.stringify(settings)}`}
          onSubmit={onSubmit}
          aria-label="Masking settings"
          style={{ display: "grid", gap: "0.9rem" }}
        >
          <p className="small muted">
            {settings.isDefault
              ? "This connection uses the defaults."
              : "This connection has its own settings."}{" "}
            Detectors look inside free text and JSON too; column rules always mask a column, whatever it
            holds.
          </p>
          <div className="field" style={{ maxWidth: 320 }}>
            <label htmlFor="defaultStyle">Default style</label>
            <select id="defaultStyle" name="defaultStyle" defaultValue={settings.defaultStyle}>
              <option value="full">full: [EMAIL]</option>
              <option value="partial">partial: j***@example.com</option>
              <option value="pseudonym">pseudonym: email_5f2a9c (joinable)</option>
            </select>
          </div>
          {categories.map((category) => (
            <fieldset key={category}>
              <legend>{CATEGORY_LABELS[category] ?? category}</legend>
              <div
                style={{
                  display: "grid",
                  gridTemplateColumns: "repeat(auto-fill, minmax(280px, 1fr))",
                  gap: "0.35rem 1rem",
                }}
              >
                {detectors
                  .filter((d) => d.category === category)
                  .map((d) => (
                    <div
                      key={d.type}
                      style={{ display: "flex", gap: "0.4rem", alignItems: "center" }}
                      title={d.validation}
                    >
                      <input
                        id={`on:${d.type}`}
                        type="checkbox"
                        name={`on:${d.type}`}
                        defaultChecked={!settings.enabledTypes || settings.enabledTypes.includes(d.type)}
                      />
                      <label htmlFor={`on:${d.type}`} style={{ flex: 1, fontWeight: 400 }}>
                        {d.label}
                      </label>
                      <select
                        name={`style:${d.type}`}
                        aria-label={`Style for ${d.label}`}
                        defaultValue={settings.styles[d.type] ?? "default"}
                        style={{ width: "auto", padding: "0.15rem 0.3rem", fontSize: "0.8rem" }}
                      >
                        <option value="default">default</option>
                        <option value="full">full</option>
                        <option value="partial">partial</option>
                        <option value="pseudonym">pseudonym</option>
                      </select>
                    </div>
                  ))}
              </div>
            </fieldset>
          ))}
          <div className="field">
            <label htmlFor="columnRules">Column rules, one per line: pattern = type</label>
            <textarea
              id="columnRules"
              name="columnRules"
              defaultValue={settings.columnRules.map((r) => `${r.pattern} = ${r.type}`).join("\n")}
              style={{ minHeight: "9rem" }}
            />
            <span className="hint">
              Patterns match schema.table.column from the right, with * globs: <code>users.ssn</code>,{" "}
              <code>*password*</code>, <code>billing.*.iban</code>.
            </span>
          </div>
          <div className="btn-row">
            <button className="btn primary" type="submit">
              Save masking
            </button>
            {!settings.isDefault && (
              <button className="btn" type="button" onClick={reset}>
                Reset to defaults
              </button>
            )}
          </div>
        </form>
      )}
    </div>
  );
}
