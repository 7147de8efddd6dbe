-- The organization a user last worked in, restored at their next sign-in.
ALTER TABLE users ADD COLUMN last_organization_id BIGINT REFERENCES organizations (id) ON DELETE SET NULL;
