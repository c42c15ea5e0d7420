/**
 * Which masking configuration applies to a connection: its own settings from the Policies page, or the shipped
 * defaults (every detector on, default column rules), plus the column rules its confirmed classifications (and
 * applied proposals) act as (server/classification), ahead of the hand-written ones. Cached until the next
 * change (server/store-cache.ts), so
 * a change applies at once; the returned object is reused while the settings are unchanged, so the masker's
 * compiled form is reused too.
 */
import "server-only";
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { maskingSettings } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { classifiedColumnRules } from "@/server/classification";
import { getConfig } from "@/server/config";
import { columnRuleSchema, DETECTOR_TYPES, defaultMaskingConfig, type MaskingConfig } from "@/server/masking";
import { processSingleton } from "@/server/singleton";
import { storeCache } from "@/server/store-cache";

const style = z.enum(["full", "partial", "pseudonym"]);

export const maskingSettingsSchema = z.strictObject({
  enabledTypes: z
    .array(z.string().refine((t) => DETECTOR_TYPES.includes(t), { message: "unknown detector type" }))
    .optional(),
  styles: z.record(z.string(), style).default({}),
  defaultStyle: style.default("full"),
  columnRules: z.array(columnRuleSchema).max(500).default([]),
});
export type MaskingSettings = z.output<typeof maskingSettingsSchema>;

const cache = processSingleton(
  "maskingConfigs",
  () => new Map<string, { version: string; config: MaskingConfig }>(),
);

function pseudonymKey(): string {
  // Pseudonyms are keyed per installation, derived from MASTER_KEY, so they are stable across restarts.
  return createHmac("sha256", getConfig().masterKey).update("portcullis:masking:pseudonym").digest("hex");
}

const defaults = processSingleton("maskingDefaults", () => ({
  config: undefined as MaskingConfig | undefined,
}));

export function defaultConnectionMasking(): MaskingConfig {
  defaults.config ??= defaultMaskingConfig(pseudonymKey());
  return defaults.config;
}

/** The config in force per connection, cleared on every change (server/store-cache.ts). */
const configs = storeCache<MaskingConfig | "default">("maskingConfigFor");

export async function maskingConfigFor(connectionId: string): Promise<MaskingConfig> {
  const found = await configs.get(connectionId, async () => {
    const db = await getDb();
    const [[row], classified] = await Promise.all([
      db.select().from(maskingSettings).where(eq(maskingSettings.connectionId, connectionId)),
      classifiedColumnRules(connectionId),
    ]);
    if (!row && classified.length === 0) return "default";
    const version = `${row?.updatedAt.getTime() ?? "default"} ${JSON.stringify(classified)}`;
    const hit = cache.get(connectionId);
    if (hit && hit.version === version) return hit.config;
    const base: MaskingConfig = row
      ? { ...row.settings, pseudonymKey: pseudonymKey() }
      : defaultConnectionMasking();
    const config: MaskingConfig = { ...base, columnRules: [...classified, ...base.columnRules] };
    cache.set(connectionId, { version, config });
    return config;
  });
  return found === "default" ? defaultConnectionMasking() : found;
}

/** The settings as an admin edits them (no key material). */
export async function getMaskingSettings(
  connectionId: string,
): Promise<MaskingSettings & { isDefault: boolean }> {
  const db = await getDb();
  const [row] = await db.select().from(maskingSettings).where(eq(maskingSettings.connectionId, connectionId));
  const source = row?.settings ?? defaultConnectionMasking();
  return {
    ...(source.enabledTypes && { enabledTypes: [...source.enabledTypes] }),
    styles: { ...(source.styles ?? {}) },
    defaultStyle: source.defaultStyle,
    columnRules: [...source.columnRules],
    isDefault: !row,
  };
}

export async function saveMaskingSettings(
  actor: Actor,
  connection: { id: string; name: string },
  input: unknown,
) {
  const settings = maskingSettingsSchema.parse(input);
  const db = await getDb();
  await db
    .insert(maskingSettings)
    .values({ connectionId: connection.id, settings, updatedAt: new Date() })
    .onConflictDoUpdate({ target: maskingSettings.connectionId, set: { settings, updatedAt: new Date() } });
  await recordAuditEvent(actor, "masking.update", connection.name, {
    enabledTypes: settings.enabledTypes ?? "all",
    columnRules: settings.columnRules.length,
  });
}

export async function resetMaskingSettings(actor: Actor, connection: { id: string; name: string }) {
  const db = await getDb();
  await db.delete(maskingSettings).where(eq(maskingSettings.connectionId, connection.id));
  await recordAuditEvent(actor, "masking.reset", connection.name);
}
