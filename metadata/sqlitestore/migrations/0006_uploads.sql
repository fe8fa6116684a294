-- Resumable upload sessions (metadata.Uploads). id is the attachment's ID
-- to be, unique among uploads; CreateUpload checks attachments for it in
-- the same transaction. Times are unix microseconds, UTC, as in 0001 (the
-- zero time is its own value, not 0). info, hash_state, head and
-- storage_state are the caller's opaque bytes. version is the
-- compare-and-swap token: 1 on create, one more on every change.
CREATE TABLE uploads (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    length        INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL,
    concat        INTEGER NOT NULL,
    info          BLOB    NOT NULL,
    hash_state    BLOB    NOT NULL,
    head          BLOB    NOT NULL,
    storage_state BLOB    NOT NULL,
    finishing     INTEGER NOT NULL,
    lock_owner    TEXT    NOT NULL,
    locked_until  INTEGER NOT NULL,
    interrupt     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL
) WITHOUT ROWID;

-- ExpiredUploads walks this from its cursor.
CREATE INDEX uploads_expires ON uploads (expires_at, id);
