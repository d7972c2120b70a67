-- Working-day calendar years loaded by operators (`regctl calendar load`), in addition to the
-- years built into the binaries. A year is usable only once it is listed in calendar_years.
CREATE TABLE calendar_years (
  year      integer     PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
  source    text        NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE calendar_days (
  day  date    PRIMARY KEY,
  kind text    NOT NULL CHECK (kind IN ('holiday', 'workday')),
  name text    NOT NULL DEFAULT '',
  year integer NOT NULL REFERENCES calendar_years (year) ON DELETE CASCADE
);
