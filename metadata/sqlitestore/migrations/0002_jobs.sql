-- An image's displayed dimensions once analysed; 0 when unknown.
ALTER TABLE attachments ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attachments ADD COLUMN height INTEGER NOT NULL DEFAULT 0;

-- The job queue (metadata.Queue): one row per processor of an attachment,
-- deleted with it. Times are unix microseconds, UTC. attempt counts the
-- claims and fences Finish and Extend. lease_until is set while the job is
-- processing and NULL otherwise. updated_at is the time of the last Create,
-- Claim or Finish (Extend is given no time).
--
-- due_at is when the job is due: run_at while pending, lease_until while
-- processing (an expired lease is a dead worker's), NULL once final. Claim
-- walks jobs_due from its start and NextDue reads its first entry: one
-- index, in the order Claim hands jobs out (due_at, then the primary key
-- that every index of a WITHOUT ROWID table ends with), so neither sorts
-- nor reads a final job.
CREATE TABLE jobs (
    attachment_id TEXT    NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    processor     TEXT    NOT NULL,
    tenant        TEXT    NOT NULL,
    state         TEXT    NOT NULL
        CHECK (state IN ('pending', 'processing', 'completed', 'failed', 'canceled')),
    attempt       INTEGER NOT NULL DEFAULT 0,
    run_at        INTEGER NOT NULL,
    lease_until   INTEGER,
    error         TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL,
    due_at        INTEGER GENERATED ALWAYS AS (
        CASE state WHEN 'pending' THEN run_at WHEN 'processing' THEN lease_until END
    ) VIRTUAL,
    PRIMARY KEY (attachment_id, processor)
) WITHOUT ROWID;

CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
