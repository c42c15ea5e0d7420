-- The sessions list's free-text filter looks for text in statements and commands. A trigram index finds the
-- few sessions holding rare text without reading every event (pg_trgm is a trusted extension: a database owner
-- may create it; the embedded store loads it in db/store.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "session_events_text_trgm_idx" ON "session_events"
  USING gin ((coalesce(data->>'input', data->>'command', '')) gin_trgm_ops)
  WHERE type IN ('statement', 'command');
