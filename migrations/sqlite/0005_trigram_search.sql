-- PostgreSQL adds trigram indexes for "contains" filters here. SQLite has no equivalent
-- built in; the step exists so both backends list the same migrations.
SELECT 1;
