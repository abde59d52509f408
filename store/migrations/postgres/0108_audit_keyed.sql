-- The keyed chain (domain/src/audit/mod.rs): each entry from now on is linked by a MAC under the chain key, which
-- never is in the database; key_id names that key (NULL: a legacy entry, linked by SHA-256 alone).
ALTER TABLE audit_log ADD COLUMN key_id TEXT;

-- Appends must extend the chain: the next number, linked to the last entry's hash, keyed once the keyed chain
-- began. A forged entry with a well-formed link still passes here; its MAC gives it away (`audit verify`). Rows
-- inserted earlier by the same statement are visible here, so multi-row appends are checked row by row.
CREATE FUNCTION audit_log_extends() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  BIGINT;
    last_hash TEXT;
    last_key  TEXT;
BEGIN
    SELECT seq, hash, key_id INTO last_seq, last_hash, last_key FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM COALESCE(last_seq, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, repeat('0', 64))
       OR (NEW.key_id IS NULL AND last_key IS NOT NULL) THEN
        RAISE EXCEPTION 'audit_log appends must extend the chain (entry %)', NEW.seq;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_append_extends BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_extends();

-- The head never moves back (rewinding it is how a cut-off tail would be hidden).
CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'audit_head never moves back';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
