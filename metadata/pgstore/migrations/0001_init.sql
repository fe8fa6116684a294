-- The whole schema of release 1. Every object is created in the current
-- schema (the first existing schema of search_path); migrate runs this file
-- in one transaction, holding the schema's advisory lock.

-- pg_trgm indexes filename search. It is a trusted extension (PostgreSQL
-- 13+): a user with CREATE on the database may install it. Once installed
-- (anywhere), it is used where it is: the operator class is named with the
-- extension's schema below, so that schema need not be on search_path.
-- Installing it is serialized across schemas by a lock of its own, so that
-- two schemas migrated at once do not both try.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm') THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('github.com/attachkit/attachment/metadata/pgstore pg_trgm', 0));
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    END IF;
END
$$;

-- Attachment records. Times are timestamptz (microseconds, as Go's
-- time.UnixMicro). labels is a JSON object and refs a JSON array, NULL when
-- there are none. filename_lower is strings.ToLower(filename), computed in
-- Go (the contract's lowercasing, not the database locale's). Columns
-- compared for order or equality are COLLATE "C": byte order, which is the
-- order of IDs, whatever the database's default collation.
--
-- (tenant, id) is the primary key: listing a tenant in ID order walks it
-- from the cursor, and labels and jobs reference it. id alone is unique
-- too, across tenants, by an exclusion constraint on a hash index: a
-- btree on id would offer the planner a walk in ID order across every
-- tenant, which it may take for a tenant's newest page (filtering out the
-- newer records of all the others), having no way to know that a
-- tenant's records are not spread evenly among the IDs.
CREATE TABLE attachments (
    tenant         text COLLATE "C" NOT NULL,
    id             text COLLATE "C" NOT NULL,
    filename       text             NOT NULL,
    filename_lower text             NOT NULL,
    content_type   text COLLATE "C" NOT NULL,
    size           bigint           NOT NULL,
    sha256         text             NOT NULL,
    owner          text COLLATE "C" NOT NULL,
    labels         jsonb,
    refs           jsonb,
    created_by     text             NOT NULL,
    width          bigint           NOT NULL DEFAULT 0,
    height         bigint           NOT NULL DEFAULT 0,
    created_at     timestamptz      NOT NULL,
    updated_at     timestamptz      NOT NULL,
    CONSTRAINT attachments_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT attachments_id_key EXCLUDE USING hash (id WITH =)
);

-- Listing one owner's records in a tenant from a keyset cursor.
CREATE INDEX attachments_tenant_owner_id ON attachments (tenant, owner, id);

-- Substring search of filenames, by two GIN indexes (see listQuery):
--
-- A search of five characters or more uses attachments_filename_grams: the
-- index of every substring of filename_lower that is five characters long,
-- and the search asks for the records that have every such substring of
-- the search (then checks the whole with strpos, which has no wildcards).
-- A rare name has a rare five-character substring, whose short list the
-- index reads first: the cost follows the matches, not the table. The
-- trigram index could not do that for a long name: every trigram of
-- "photo-0333334" (pho, hot, ..., 333, 334) is in a fixed share of all
-- names, so its work grows with the table.
--
-- A shorter search uses attachments_filename_trgm with LIKE '%...%' (the
-- search escapes % _ and \, so every character is literal): its one or two
-- trigrams are as selective as the search itself.
CREATE FUNCTION attachment_filename_grams(s text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ARRAY(SELECT pg_catalog.substr(s, i, 5) FROM pg_catalog.generate_series(1, pg_catalog.length(s) - 4) AS i) $$;

CREATE INDEX attachments_filename_grams ON attachments USING gin (attachment_filename_grams(filename_lower));

DO $$
BEGIN
    EXECUTE pg_catalog.format(
        'CREATE INDEX attachments_filename_trgm ON attachments USING gin (filename_lower %I.gin_trgm_ops)',
        (SELECT n.nspname FROM pg_catalog.pg_extension e
            JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'pg_trgm'));
END
$$;

-- One row per label of each attachment, kept in step with
-- attachments.labels, so that label filters use an index.
CREATE TABLE attachment_labels (
    attachment_id text COLLATE "C" NOT NULL,
    tenant        text COLLATE "C" NOT NULL,
    key           text COLLATE "C" NOT NULL,
    value         text COLLATE "C" NOT NULL,
    CONSTRAINT attachment_labels_pkey PRIMARY KEY (attachment_id, key),
    FOREIGN KEY (tenant, attachment_id) REFERENCES attachments (tenant, id) ON DELETE CASCADE
);

CREATE INDEX attachment_labels_tenant_key_value ON attachment_labels (tenant, key, value, attachment_id);

-- The job queue (metadata.Queue): one row per processor of an attachment,
-- deleted with it. attempt counts the claims and fences Finish and Extend.
-- lease_until is set while the job is processing and NULL otherwise.
-- updated_at is the time of the last Create, Claim or Finish (Extend is
-- given no time).
--
-- due_at is when the job is due: run_at while pending, lease_until while
-- processing (an expired lease is a dead worker's), NULL once final. Claim
-- walks attachment_jobs_due from its start and NextDue reads its first
-- entry: one index, in the order Claim hands jobs out, without final jobs.
CREATE TABLE attachment_jobs (
    attachment_id text COLLATE "C" NOT NULL,
    processor     text COLLATE "C" NOT NULL,
    tenant        text COLLATE "C" NOT NULL,
    state         text             NOT NULL
        CHECK (state IN ('pending', 'processing', 'completed', 'failed', 'canceled')),
    attempt       integer          NOT NULL DEFAULT 0,
    run_at        timestamptz      NOT NULL,
    lease_until   timestamptz,
    error         text             NOT NULL DEFAULT '',
    updated_at    timestamptz      NOT NULL,
    due_at        timestamptz GENERATED ALWAYS AS (
        CASE state WHEN 'pending' THEN run_at WHEN 'processing' THEN lease_until END
    ) STORED,
    CONSTRAINT attachment_jobs_pkey PRIMARY KEY (attachment_id, processor),
    FOREIGN KEY (tenant, attachment_id) REFERENCES attachments (tenant, id) ON DELETE CASCADE
);

CREATE INDEX attachment_jobs_due ON attachment_jobs (due_at, attachment_id, processor) WHERE due_at IS NOT NULL;
