-- search_bigrams (0003) lower-cased the whole text once per character and matched a regular
-- expression once per bigram: quadratic in the text's length, and most of PostgreSQL's time
-- when a decision is published. Same result, computed in one pass: the lower-cased text is cut
-- at whitespace once, and the bigrams are taken inside each piece (a bigram that spans no
-- whitespace lies inside one piece). Stored values need no recomputation: they are equal.
CREATE OR REPLACE FUNCTION search_bigrams(category integer, t text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$
  SELECT coalesce(array_agg(DISTINCT category || ':' || substr(w, i, 2)), '{}')
  FROM regexp_split_to_table(lower(t), '\s+') AS w, generate_series(1, length(w) - 1) AS i
$$;
