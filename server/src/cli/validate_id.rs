//! `realname-server validate-id`: validates identity numbers, one JSON object per input line.
