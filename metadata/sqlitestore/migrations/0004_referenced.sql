-- ever_referenced is 1 once a record has had a ref (metadata.Scanner): a
-- record with 0 that is old enough is an abandoned upload, which the
-- Service may sweep. Records stored before this migration have an unknown
-- history and count as referenced, so they are never swept.
ALTER TABLE attachments ADD COLUMN ever_referenced INTEGER NOT NULL DEFAULT 1;

-- The never-referenced records in ID (creation) order, for the sweep.
CREATE INDEX attachments_never_referenced ON attachments (id) WHERE ever_referenced = 0;
