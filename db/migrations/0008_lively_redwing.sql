DROP INDEX "sessions_started_idx";--> statement-breakpoint
CREATE INDEX "session_events_keyframe_idx" ON "session_events" USING btree ("session_id",((data->>'t')::float8)) WHERE type = 'keyframe';--> statement-breakpoint
CREATE INDEX "sessions_started_idx" ON "sessions" USING btree ("started_at","id");