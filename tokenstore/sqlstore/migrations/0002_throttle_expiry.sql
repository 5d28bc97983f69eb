-- Version 2: an index on throttles.locked_until, so that DeleteExpired can
-- forget the login failures of account keys nobody has tried for a day
-- (attempts at emails nobody owns would otherwise grow the table forever).
CREATE INDEX IF NOT EXISTS throttles_locked_until ON throttles (locked_until);
