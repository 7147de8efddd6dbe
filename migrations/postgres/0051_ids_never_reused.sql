-- SQLite only (see migrations/sqlite/0051): PostgreSQL's identity columns never hand out
-- an id twice. Kept so both folders list the same steps.
SELECT 1;
