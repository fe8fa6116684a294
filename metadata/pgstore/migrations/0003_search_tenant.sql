-- The filename indexes keyed by tenant. Before, both (the five-character
-- grams of 0001, and pg_trgm's trigrams) held every tenant's names under
-- the same keys: a search read, and rechecked in the table, the matches of
-- every tenant before it kept its own, so that its time told a tenant
-- whether another had a name containing the search.
--
-- attachment_tenant_grams(tenant, s, n) is the substrings of s that are n
-- characters long, each followed by tenant: a key names its tenant (the
-- gram before it has a fixed length, so no two tenants share a key), and a
-- search asks for its own tenant's keys only. Two indexes, of five- and
-- three-character grams:
--
-- A search of five characters or more uses attachments_tenant_grams5 as it
-- used attachments_filename_grams (see 0001): the records that have the
-- search's grams, then strpos.
--
-- A search of three or four characters uses attachments_tenant_grams3
-- instead of the trigram index: one or two of its three-character
-- substrings, as selective as the search itself, then strpos. Unlike
-- pg_trgm's, these grams are every substring of filename_lower, whatever
-- its characters. pg_trgm stays installed (0001 needs it) but is no
-- longer used.
CREATE FUNCTION attachment_tenant_grams(tenant text, s text, n integer) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ARRAY(SELECT pg_catalog.textcat(pg_catalog.substr(s, i, n), tenant)
        FROM pg_catalog.generate_series(1, pg_catalog.length(s) - n + 1) AS i) $$;

CREATE INDEX attachments_tenant_grams5 ON attachments USING gin (attachment_tenant_grams(tenant, filename_lower, 5));
CREATE INDEX attachments_tenant_grams3 ON attachments USING gin (attachment_tenant_grams(tenant, filename_lower, 3));

DROP INDEX attachments_filename_grams;
DROP INDEX attachments_filename_trgm;
DROP FUNCTION attachment_filename_grams(text);
