-- ever_referenced is true once a record has had a ref (metadata.Scanner):
-- a record with false that is old enough is an abandoned upload, which the
-- Service may sweep. Records stored before this migration have an unknown
-- history and count as referenced, so they are never swept.
ALTER TABLE attachments ADD COLUMN ever_referenced boolean NOT NULL DEFAULT true;

-- The never-referenced records in ID (creation) order, for the sweep.
CREATE INDEX attachments_never_referenced ON attachments (id) WHERE NOT ever_referenced;

-- Every record in ID order, for Scan (the reconciler's walk across
-- tenants). An index on the expression id || '' (the ID itself), which
-- only Scan's query names: a plain index on id would be offered to a
-- tenant's listing, and taken (see the note on the attachments table in
-- 0001); a partial index on id would be too, as the planner proves any
-- predicate on id from a listing's cursor.
CREATE INDEX attachments_scan ON attachments ((id || ''));
