-- The grid orders by a unique key (username, email) without an id tie-break, so the
-- unique constraint's index serves that order; (email_key, id) only cost every write.
DROP INDEX IF EXISTS users_email_sort;
