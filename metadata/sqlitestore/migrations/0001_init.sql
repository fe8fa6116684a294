-- Attachment records, clustered by (tenant, id): listing a tenant in ID
-- order, and searching its filenames, read the table itself in order. id
-- alone is unique too, across tenants. Times are unix microseconds, UTC.
-- labels is a JSON object and refs a JSON array, NULL when there are none.
-- filename_lower is strings.ToLower(filename), computed in Go, searched with
-- instr() so that no character is a wildcard.
CREATE TABLE attachments (
    tenant         TEXT    NOT NULL,
    id             TEXT    NOT NULL UNIQUE,
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
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Listing one owner's records in a tenant from a keyset cursor.
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
