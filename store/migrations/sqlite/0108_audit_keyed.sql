-- The keyed chain (domain/src/audit/mod.rs): each entry from now on is linked by a MAC under the chain key, which
-- never is in the database; key_id names that key (NULL: a legacy entry, linked by SHA-256 alone).
ALTER TABLE audit_log ADD COLUMN key_id TEXT;

-- Appends must extend the chain: the next number, linked to the last entry's hash, keyed once the keyed chain
-- began. A forged entry with a well-formed link still passes here; its MAC gives it away (`audit verify`).
CREATE TRIGGER audit_log_append_extends BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log WHERE seq = NEW.seq - 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
  OR (NEW.key_id IS NULL AND (SELECT key_id FROM audit_log WHERE seq = NEW.seq - 1) IS NOT NULL)
BEGIN SELECT RAISE(ABORT, 'audit_log appends must extend the chain'); END;

-- The head never moves back (rewinding it is how a cut-off tail would be hidden).
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.seq < OLD.seq
BEGIN SELECT RAISE(ABORT, 'audit_head never moves back'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head never moves back'); END;
