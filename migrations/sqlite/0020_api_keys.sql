-- One API key per user per organization (as in OroPlatform). WSSE makes the server
-- recompute a digest from the key, so it cannot be hashed: it is stored encrypted
-- (ChaCha20-Poly1305, key from `security.api_key_encryption_key`, the row's user and
-- organization bound in as associated data).
CREATE TABLE api_keys (
    id               INTEGER PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id  BIGINT NOT NULL REFERENCES organizations (id),
    key_ciphertext   BLOB   NOT NULL,
    key_nonce        BLOB   NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (user_id, organization_id)
);

-- WSSE nonces seen within their token's lifetime, shared by every process; a nonce is
-- accepted once. Expired rows are purged periodically.
CREATE TABLE wsse_nonces (
    nonce       TEXT   PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX wsse_nonces_expiry ON wsse_nonces (expires_at);
