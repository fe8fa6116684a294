-- Resumable upload sessions (metadata.Uploads). id is the attachment's ID
-- to be, unique among uploads (CreateUpload checks attachments too). Uploads
-- are never listed per tenant, only looked up by id and walked by
-- expires_at, so a btree on id is what they need (the planner concern that
-- keeps one off attachments does not apply). Times are timestamptz
-- (microseconds); the zero time of Go is stored as 0001-01-01 UTC. info,
-- hash_state, head and storage_state are the caller's opaque bytes.
-- version is the compare-and-swap token: 1 on create, one more on every
-- change.
CREATE TABLE attachment_uploads (
    id            text COLLATE "C" NOT NULL,
    tenant        text COLLATE "C" NOT NULL,
    created_by    text             NOT NULL,
    length        bigint           NOT NULL,
    upload_offset bigint           NOT NULL,
    concat        smallint         NOT NULL,
    info          bytea            NOT NULL,
    hash_state    bytea            NOT NULL,
    head          bytea            NOT NULL,
    storage_state bytea            NOT NULL,
    finishing     boolean          NOT NULL,
    lock_owner    text             NOT NULL,
    locked_until  timestamptz      NOT NULL,
    interrupt     boolean          NOT NULL,
    expires_at    timestamptz      NOT NULL,
    created_at    timestamptz      NOT NULL,
    updated_at    timestamptz      NOT NULL,
    version       bigint           NOT NULL,
    CONSTRAINT attachment_uploads_pkey PRIMARY KEY (id)
);

-- ExpiredUploads walks this from its cursor.
CREATE INDEX attachment_uploads_expires ON attachment_uploads (expires_at, id);
