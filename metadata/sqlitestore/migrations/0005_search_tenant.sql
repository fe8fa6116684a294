-- The gram index (0003) keyed by tenant first: a search reads and counts
-- only its own tenant's entries, so neither its work nor its time depends
-- on the names of other tenants (before, counting a gram's names counted
-- every tenant's, and the time of a search told whether another tenant
-- had a name containing it). A record's tenant never changes, so an entry
-- stays under the tenant it was written with until its record is renamed
-- or deleted.
CREATE TABLE attachment_grams_by_tenant (
    tenant TEXT    NOT NULL,
    gram   TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (tenant, gram, seq)
) WITHOUT ROWID;

-- The entries written before this migration, under their record's tenant.
INSERT INTO attachment_grams_by_tenant (tenant, gram, seq)
    SELECT a.tenant, g.gram, g.seq
        FROM attachment_grams g
        JOIN attachment_names n ON n.seq = g.seq
        JOIN attachments a ON a.id = n.id;

DROP TABLE attachment_grams;
ALTER TABLE attachment_grams_by_tenant RENAME TO attachment_grams;
