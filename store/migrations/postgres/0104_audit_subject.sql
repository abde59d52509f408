-- Looking up the entries about one subject (the case view shows a child's guardian consent from here).
CREATE INDEX audit_log_subject ON audit_log (subject, action);
