-- The fingerprint of every key an accepted instance holds (realname_domain::keyprint): keyed hashes that reveal
-- nothing about the keys. An instance whose keys do not match these refuses to start. Rows are never deleted:
-- rotation adds keys.
CREATE TABLE key_prints (
    key_set     TEXT NOT NULL,    -- hpke, token, code_hmac, limit_hmac, vault, vault_index
    kid         TEXT NOT NULL,
    print       TEXT NOT NULL,    -- 32 hex digits
    recorded_at BIGINT NOT NULL,  -- Unix milliseconds
    PRIMARY KEY (key_set, kid)
);
