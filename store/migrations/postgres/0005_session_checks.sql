-- Authoritative checks (issue 17): each check's outcome, provider, time and latency, `check:outcome:provider:at:latency`
-- items joined by `;` (realname_domain::checks). Outcomes only: nothing that was checked.
ALTER TABLE sessions ADD COLUMN checks TEXT;
