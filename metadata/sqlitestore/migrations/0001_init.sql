-- Attachment records. Times are unix microseconds, UTC. labels is a JSON
-- object and refs a JSON array, NULL when there are none. filename_lower is
-- strings.ToLower(filename), computed in Go, searched with instr() so that
-- no character is a wildcard.
CREATE TABLE attachments (
    id             TEXT    NOT NULL PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    filename       TEXT    NOT NULL,
    filename_lower TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    labels         TEXT,
    refs           TEXT,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Listing a tenant, or one owner in a tenant, newest or oldest first from a
-- keyset cursor.
CREATE INDEX attachments_tenant_id ON attachments (tenant, id);
CREATE INDEX attachments_tenant_owner_id ON attachments (tenant, owner, id);

-- One row per label of each attachment, kept in step with
-- attachments.labels, so that label filters use an index.
CREATE TABLE attachment_labels (
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    tenant        TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (attachment_id, key)
) WITHOUT ROWID;

CREATE INDEX attachment_labels_tenant_key_value ON attachment_labels (tenant, key, value, attachment_id);
