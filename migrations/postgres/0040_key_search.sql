-- SQLite adds its trigram search over usernames and emails (FTS5) here; PostgreSQL has had
-- its pg_trgm index since 0005. The step exists so both backends list the same migrations.
SELECT 1;
