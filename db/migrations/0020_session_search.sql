-- The sessions list's text search gets a table of its own (decision 0026): the text of every statement and
-- command event, written by an indexer that follows session_events by id off the append's path
-- (server/recording/search-index.ts), so an append no longer maintains a trigram GIN index. How far the indexer
-- has read is its row in access_rollup_state; a search reads this table through its trigram index and the events
-- above that watermark directly, so nothing recorded is ever missing from a search.
--
-- The table starts empty and the indexer backfills it in batches: copying a million events here took minutes on
-- the embedded store (decision 0026). Until it has caught up, the events above the watermark are most of the store,
-- so session_events_text_trgm_idx (migration 0010) stays for those searches; the indexer drops it (concurrently)
-- once it has caught up.
--
-- The key leads with the session: one b-tree serves the foreign key's cascade (retention deletes sessions) and
-- keeps a row per event (event ids are unique).
CREATE TABLE IF NOT EXISTS "session_search" (
  "session_id" text NOT NULL,
  "event_id" bigint NOT NULL,
  "text" text NOT NULL,
  CONSTRAINT "session_search_session_id_event_id_pk" PRIMARY KEY ("session_id", "event_id")
);--> statement-breakpoint
ALTER TABLE "session_search" ADD CONSTRAINT "session_search_session_id_sessions_id_fk" FOREIGN KEY ("session_id")
  REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "session_search_text_trgm_idx" ON "session_search" USING gin ("text" gin_trgm_ops);--> statement-breakpoint
INSERT INTO "access_rollup_state" ("id", "last_event_id", "updated_at") VALUES ('session_search', 0, now())
  ON CONFLICT ("id") DO NOTHING;
