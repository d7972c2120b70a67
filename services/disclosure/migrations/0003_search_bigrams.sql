-- Chinese full-text search without a word segmenter: every record carries the set of its
-- character bigrams (2-grams of the lower-cased masked text, none spanning whitespace),
-- each prefixed with the record's category ("2:危化"), in a GIN index. A query of two or more
-- characters is answered from the records holding all of the query's bigrams in the asked
-- category (or in any, one index scan per category), then confirmed with ILIKE. pg_trgm's
-- trigrams cannot serve a two-character query such as 危化; bigrams can, and the category
-- prefix keeps a text that is common elsewhere but absent in the asked category cheap.
-- Publications::Search explains when the service uses this index.
CREATE FUNCTION search_bigrams(category integer, t text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$
  SELECT coalesce(array_agg(DISTINCT category || ':' || g), '{}')
  FROM (SELECT substr(lower(t), i, 2) AS g FROM generate_series(1, length(t) - 1) AS i) AS grams
  WHERE g !~ '\s'
$$;

ALTER TABLE records ADD COLUMN search_bigrams text[]
  GENERATED ALWAYS AS (search_bigrams(category, search_text)) STORED;
CREATE INDEX records_search_bigrams ON records USING gin (search_bigrams);
DROP INDEX records_search_trgm;  -- superseded by the bigram index
