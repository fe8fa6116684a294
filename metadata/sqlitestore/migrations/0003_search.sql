-- An index of the five-character substrings ("grams") of filename_lower,
-- so that a filename search that matches few records reads those records
-- instead of a whole tenant (see Store.search). A search of five
-- characters or more contains grams; the records that contain the search
-- are among those that contain its rarest gram, which the search reads
-- from here and checks. Five characters, not three: a name that is rare
-- has a rare five-character substring, while each of its trigrams may be
-- in a fixed share of all names ("photo-0333334": pho, hot, ..., 333, 334),
-- so that reading the rarest trigram costs more as the table grows.
--
-- attachment_names numbers the attachments (seq), so that the grams hold
-- a small integer rather than the ID. The store keeps both in step with
-- every Create, rename and Delete (records.go); substr and length count
-- characters, as the store's grams do.
CREATE TABLE attachment_names (
    seq INTEGER PRIMARY KEY,
    id  TEXT NOT NULL UNIQUE
);

CREATE TABLE attachment_grams (
    gram TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (gram, seq)
) WITHOUT ROWID;

-- The attachments stored before this migration.
INSERT INTO attachment_names (id) SELECT id FROM attachments;
WITH RECURSIVE g (seq, name, i) AS (
    SELECT n.seq, a.filename_lower, 1
        FROM attachment_names n JOIN attachments a ON a.id = n.id
        WHERE length(a.filename_lower) >= 5
    UNION ALL
    SELECT seq, name, i + 1 FROM g WHERE i + 5 <= length(name)
)
INSERT OR IGNORE INTO attachment_grams (gram, seq) SELECT substr(name, i, 5), seq FROM g;
