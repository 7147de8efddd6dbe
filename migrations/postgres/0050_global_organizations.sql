-- OroPlatform's "global access" organization: its administrators manage every
-- organization; an administrator of any other manages only the organizations they belong
-- to. The first organization is the global one, so an existing installation's
-- administrators keep managing everyone.
ALTER TABLE organizations ADD COLUMN is_global BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE organizations SET is_global = TRUE WHERE id = (SELECT MIN(id) FROM organizations);
