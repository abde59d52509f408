//! CSV export of the audit log (RFC 4180), and reading an export back to verify it offline.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use super::{Entry, Event};
use crate::calendar::Date;
use crate::encoding::{hex_decode_32, hex_encode};

/// The header line of an export (`key_id`: the chain key of a keyed entry, empty for a legacy one).
pub const HEADER: &str = "seq,at_ms,time_utc,actor,action,site,subject,detail,prev_hash,key_id,hash";

/// The header of exports written before the keyed chain (no `key_id`: every entry is legacy); still read.
pub const HEADER_LEGACY: &str = "seq,at_ms,time_utc,actor,action,site,subject,detail,prev_hash,hash";

/// A line of an export that cannot be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {why}")]
pub struct BadLine {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// `2026-01-01T00:00:00.000Z` for Unix milliseconds.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let date = Date::from_days_since_epoch(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    format!("{date}T{:02}:{:02}:{:02}.{:03}Z", tod / 3600, tod / 60 % 60, tod % 60, ms.rem_euclid(1000))
}

/// One CSV line (without the line break) for an entry.
pub fn line(e: &Entry) -> String {
    let detail = serde_json::to_string(&e.event.detail).unwrap_or_default();
    let mut out = String::with_capacity(320);
    let cols: [&str; 11] = [
        &e.seq.to_string(),
        &e.at.to_string(),
        &utc(e.at),
        &e.event.actor,
        &e.event.action,
        e.event.site.as_deref().unwrap_or(""),
        &e.event.subject,
        &detail,
        &hex_encode(&e.prev_hash),
        e.key_id.as_deref().unwrap_or(""),
        &hex_encode(&e.hash),
    ];
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, c);
    }
    out
}

/// Writes the header and the entries.
pub fn write_all<'a>(out: &mut dyn Write, entries: impl IntoIterator<Item = &'a Entry>) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for e in entries {
        writeln!(out, "{}", line(e))?;
    }
    Ok(())
}

/// Splits one record into fields; `None` while a quoted field is still open (the record continues on the next line).
fn split(record: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = record.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut cur)),
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(cur);
    Some(fields)
}

/// Reads an export back into entries, in file order.
pub fn read_all(input: &mut dyn BufRead) -> Result<Vec<Entry>, BadLine> {
    let mut out = Vec::new();
    let mut record = String::new();
    let mut start = 0;
    let mut legacy = false;
    for (i, l) in input.lines().enumerate() {
        let l = l.map_err(|e| BadLine { line: i + 1, why: e.to_string() })?;
        if record.is_empty() {
            start = i + 1;
        } else {
            record.push('\n');
        }
        record.push_str(&l);
        let Some(cols) = split(&record) else { continue };
        let rec = std::mem::take(&mut record);
        if start == 1 {
            legacy = rec == HEADER_LEGACY;
            if rec != HEADER && !legacy {
                return Err(BadLine { line: 1, why: format!("header must be {HEADER}") });
            }
            continue;
        }
        out.push(parse(&cols, legacy).map_err(|why| BadLine { line: start, why })?);
    }
    if !record.is_empty() {
        return Err(BadLine { line: start, why: "unterminated quoted field".into() });
    }
    Ok(out)
}

fn parse(c: &[String], legacy: bool) -> Result<Entry, String> {
    let want = if legacy { 10 } else { 11 };
    if c.len() != want {
        return Err(format!("{} columns, want {want}", c.len()));
    }
    let key_id = if legacy { None } else { Some(c[9].clone()).filter(|k| !k.is_empty()) };
    let num = |s: &str, what: &str| s.parse::<i64>().map_err(|_| format!("bad {what}: {s:?}"));
    let h = |s: &str, what: &str| hex_decode_32(s).ok_or_else(|| format!("bad {what}"));
    let detail: BTreeMap<String, String> =
        serde_json::from_str(&c[7]).map_err(|_| "detail is not a JSON object of strings".to_owned())?;
    Ok(Entry {
        seq: num(&c[0], "seq")?,
        at: num(&c[1], "at_ms")?,
        event: Event {
            actor: c[3].clone(),
            action: c[4].clone(),
            site: (!c[5].is_empty()).then(|| c[5].clone()),
            subject: c[6].clone(),
            detail,
        },
        prev_hash: h(&c[8], "prev_hash")?,
        key_id,
        hash: h(&c[want - 1], "hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ChainKey, Head, seal, seal_legacy};
    use super::*;

    #[test]
    fn export_reads_back_exactly() {
        let a =
            seal_legacy(None, 1_767_196_800_123, Event::new("system", "x.y", "case:1").detail("reason", "a,\"b\"\nc"));
        let b = seal(
            &ChainKey::from_secret([3; 32]),
            Some(Head { seq: 1, hash: a.hash }),
            1_767_196_801_000,
            Event::new("site:demo", "z", "s").site("demo"),
        );
        let mut buf = Vec::new();
        write_all(&mut buf, [&a, &b]).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains("2025-12-31T16:00:00.123Z"));
        assert_eq!(read_all(&mut buf.as_slice()).unwrap(), vec![a.clone(), b]);
        assert!(read_all(&mut "nope\n".as_bytes()).is_err());
        // An export from before the keyed chain still reads.
        let l = line(&a);
        let (front, hash) = l.rsplit_once(',').unwrap();
        let old = format!("{HEADER_LEGACY}\n{},{hash}\n", front.strip_suffix(',').unwrap());
        assert_eq!(read_all(&mut old.as_bytes()).unwrap(), vec![a]);
    }
}
