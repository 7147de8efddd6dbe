-- PostgreSQL moves its search keys to a table of their own with a 4-gram index here.
-- SQLite's FTS5 table (0040) already lives apart from `users` and is touched only when a
-- key changes. The step exists so both backends list the same migrations.
SELECT 1;
