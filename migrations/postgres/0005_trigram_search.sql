-- "contains" filters on username and email (LIKE '%x%') use trigram indexes instead of
-- reading every row. pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_username_trgm ON users USING gin (username_key gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email_key gin_trgm_ops);
