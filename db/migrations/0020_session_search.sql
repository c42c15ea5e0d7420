-- The sessions list's text search gets a table of its own (decision 0026): the text of every statement and
-- command event, written by an indexer that follows session_events by id off the append's path
-- (server/recording/search-index.ts), so an append no longer maintains the trigram GIN index. How far the
-- indexer has read is its row in access_rollup_state; a search reads this table through its trigram index and
-- the events above that watermark directly, so nothing recorded is ever missing from a search.
--
-- The backfill runs here, under a lock that waits for appends in flight and holds new ones until this migration
-- commits (DROP INDEX takes the table's exclusive lock anyway): every event up to the watermark set below is
-- committed and indexed, none can still appear under it.
CREATE TABLE IF NOT EXISTS "session_search" (
  "event_id" bigint PRIMARY KEY NOT NULL,
  "session_id" text NOT NULL,
  "text" text NOT NULL
);--> statement-breakpoint
LOCK TABLE "session_events" IN SHARE MODE;--> statement-breakpoint
DROP INDEX IF EXISTS "session_events_text_trgm_idx";--> statement-breakpoint
INSERT INTO "session_search" ("event_id", "session_id", "text")
  SELECT id, session_id, coalesce(data->>'input', data->>'command', '')
  FROM "session_events" WHERE type IN ('statement', 'command')
  ON CONFLICT ("event_id") DO NOTHING;--> statement-breakpoint
INSERT INTO "access_rollup_state" ("id", "last_event_id", "updated_at")
  SELECT 'session_search', coalesce(max(id), 0), now() FROM "session_events"
  ON CONFLICT ("id") DO UPDATE SET last_event_id = greatest(access_rollup_state.last_event_id, excluded.last_event_id);--> statement-breakpoint
-- Indexes and the foreign key after the rows: one build each instead of a million index insertions and checks.
ALTER TABLE "session_search" ADD CONSTRAINT "session_search_session_id_sessions_id_fk" FOREIGN KEY ("session_id")
  REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "session_search_session_idx" ON "session_search" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "session_search_text_trgm_idx" ON "session_search" USING gin ("text" gin_trgm_ops);
