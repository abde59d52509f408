-- The review reason of the documents method is `documents` (the method's one name), no longer `document`.
-- Reasons are a comma-separated list; the old name is replaced as a whole item only.
UPDATE review_cases
SET reasons = btrim(replace(',' || reasons || ',', ',document,', ',documents,'), ',')
WHERE ',' || reasons || ',' LIKE '%,document,%';
