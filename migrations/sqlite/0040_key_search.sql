-- "Contains" on username and email through FTS5's trigram tokenizer, SQLite's counterpart
-- of PostgreSQL's pg_trgm index: without it such a filter reads every key (about 0.3 s at
-- a million users, per count and per page). The index reads the keys from `users`
-- (external content) and triggers keep it in step; an UPDATE that leaves both keys alone
-- (enable, disable, a login) does not touch it.
CREATE VIRTUAL TABLE user_keys_search USING fts5(
    username_key, email_key,
    content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO user_keys_search (user_keys_search) VALUES ('rebuild');

CREATE TRIGGER user_keys_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_keys_search (rowid, username_key, email_key)
    VALUES (new.id, new.username_key, new.email_key);
END;

CREATE TRIGGER user_keys_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO user_keys_search (user_keys_search, rowid, username_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.email_key);
END;

CREATE TRIGGER user_keys_search_update AFTER UPDATE OF username_key, email_key ON users BEGIN
    INSERT INTO user_keys_search (user_keys_search, rowid, username_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.email_key);
    INSERT INTO user_keys_search (rowid, username_key, email_key)
    VALUES (new.id, new.username_key, new.email_key);
END;
