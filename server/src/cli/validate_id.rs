//! `realname-server validate-id [--strict] [--kind KIND] [--today YYYY-MM-DD] [--stdin] [ID ...]`: validates
//! identity numbers with `realname_core::validate` and prints one JSON object per input on its own line.
//!
//! Invalid numbers are results, not failures: the command succeeds whenever its arguments make sense.

use std::io::{BufRead, Write};

use realname_core::validate::{Date, DocumentKind, IdCheck, Options, validate_id};
use serde::Serialize;

/// The command's usage text.
pub const USAGE: &str =
    "usage: realname-server validate-id [--strict] [--kind KIND] [--today YYYY-MM-DD] [--stdin] [ID ...]

Validates identity numbers and prints one JSON object per input on its own line:
  {\"input\", \"valid\", \"kind\", \"normalized\", \"errors\", \"warnings\", \"birth_date\", \"sex\", \"age\",
   \"under_14\", \"under_18\", \"region\": {\"code\", \"status\"}, \"nationality\", \"upgraded\"}
Exits 0 even when a number is invalid; 2 on usage errors.

options:
  --strict             unknown region or nationality codes are errors, not warnings
  --kind KIND          resident_id, hk_mo_tw_residence_permit, foreign_permanent_resident_id, hk_mo_travel_permit,
                       tw_travel_permit, chinese_passport, passport, driving_licence (default: detected from the number
                       among the kinds with a check character, the first three; the others are
                       checked only when named)
  --today YYYY-MM-DD   the date birth dates and ages are checked against (default: today, UTC)
  --stdin              also read numbers from standard input, one per line (blank lines are skipped)
  -h, --help           this text
";

/// Why `validate-id` could not run: bad arguments (exit 2), or input/output failing (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// An option the command does not know.
    #[error("unknown option {0:?}\n\n{USAGE}")]
    UnknownOption(String),
    /// An option that needs a value came last.
    #[error("{0} needs a value\n\n{USAGE}")]
    MissingValue(&'static str),
    /// `--kind` with a name that is not a document kind.
    #[error("unknown document kind {0:?}\n\n{USAGE}")]
    UnknownKind(String),
    /// `--today` that is not a real `YYYY-MM-DD` date.
    #[error("--today wants a date as YYYY-MM-DD, got {0:?}")]
    BadDate(String),
    /// Neither an ID argument nor `--stdin`.
    #[error("nothing to validate: give ID arguments or --stdin\n\n{USAGE}")]
    NoInput,
    /// Reading standard input or writing the output failed.
    #[error("input/output failed: {0}")]
    Io(#[from] std::io::Error),
}

impl UsageError {
    /// The process exit code for this error: 2 for usage errors, 1 when input or output failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            UsageError::Io(_) => 1,
            _ => 2,
        }
    }
}

/// One output line: the input as given, then the validation result's fields.
#[derive(Serialize)]
struct Line<'a> {
    input: &'a str,
    #[serde(flatten)]
    check: &'a IdCheck,
}

/// Today's date in UTC from the system clock.
fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Date::from_unix_seconds(secs)
}

/// Runs the command: `args` are the arguments after `validate-id`, `input` is standard input (read only with
/// `--stdin`), `out` receives the JSON lines (and the usage text for `--help`).
pub fn run(args: &[String], input: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), UsageError> {
    let mut strict = false;
    let mut from_stdin = false;
    let mut kind = None;
    let mut today = None;
    let mut ids: Vec<&str> = Vec::new();
    let mut it = args.iter();
    let mut options_done = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            _ if options_done => ids.push(a),
            "--" => options_done = true,
            "--strict" => strict = true,
            "--stdin" => from_stdin = true,
            "-h" | "--help" => {
                out.write_all(USAGE.as_bytes())?;
                return Ok(());
            }
            "--kind" => {
                let v = it.next().ok_or(UsageError::MissingValue("--kind"))?;
                kind = Some(DocumentKind::from_name(v).ok_or_else(|| UsageError::UnknownKind(v.clone()))?);
            }
            "--today" => {
                let v = it.next().ok_or(UsageError::MissingValue("--today"))?;
                today = Some(Date::parse(v).ok_or_else(|| UsageError::BadDate(v.clone()))?);
            }
            s if s.starts_with('-') && s.len() > 1 && !s[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                return Err(UsageError::UnknownOption(s.to_string()));
            }
            _ => ids.push(a),
        }
    }
    if ids.is_empty() && !from_stdin {
        return Err(UsageError::NoInput);
    }
    let opts = Options { today: today.unwrap_or_else(today_utc), strict, kind };
    let mut emit = |raw: &str| -> Result<(), UsageError> {
        let check = validate_id(raw, &opts);
        serde_json::to_writer(&mut *out, &Line { input: raw, check: &check }).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    for id in ids {
        emit(id)?;
    }
    if from_stdin {
        let mut line = String::new();
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                break;
            }
            let raw = line.trim_end_matches(['\n', '\r']);
            if !raw.trim().is_empty() {
                emit(raw)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// Runs with a fixed date and returns the parsed output lines.
    fn lines(a: &[&str], stdin: &str) -> Vec<Value> {
        let mut all = args(&["--today", "2024-06-01"]);
        all.extend(args(a));
        let mut out = Vec::new();
        run(&all, &mut stdin.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn one_json_object_per_argument() {
        let out = lines(&["11010519491231002X", "110105194912310021"], "ignored");
        assert_eq!(out.len(), 2);
        let ok = &out[0];
        assert_eq!(ok["input"], "11010519491231002X");
        assert_eq!(ok["valid"], true);
        assert_eq!(ok["kind"], "resident_id");
        assert_eq!(ok["normalized"], "11010519491231002X");
        assert_eq!(ok["errors"], Value::Array(vec![]));
        assert_eq!(ok["warnings"], Value::Array(vec![]));
        assert_eq!(ok["birth_date"], "1949-12-31");
        assert_eq!(ok["sex"], "female");
        assert_eq!(ok["age"], 74);
        assert_eq!(ok["region"]["code"], "110105");
        assert_eq!(ok["region"]["status"], "current");
        let bad = &out[1];
        assert_eq!(bad["valid"], false);
        assert_eq!(bad["errors"][0]["code"], "invalid_check_char");
        assert_eq!(bad["errors"][0]["position"], 17);
        assert_eq!(bad["errors"][0]["expected"], "X");
    }

    #[test]
    fn stdin_one_per_line_after_arguments() {
        let stdin = "440524188001010014\n\n  110105491231002 \r\n110103200101010010";
        let out = lines(&["--stdin", "810000199001010019"], stdin);
        let inputs: Vec<&str> = out.iter().map(|v| v["input"].as_str().unwrap()).collect();
        assert_eq!(inputs, ["810000199001010019", "440524188001010014", "  110105491231002 ", "110103200101010010"]);
        assert_eq!(out[0]["kind"], "hk_mo_tw_residence_permit");
        assert_eq!(out[1]["birth_date"], "1880-01-01");
        assert_eq!(out[1]["region"]["status"], "abolished");
        assert_eq!(out[2]["upgraded"], "11010519491231002X");
        assert_eq!(out[2]["warnings"][0]["code"], "legacy_format");
        assert_eq!(out[3]["valid"], true);
        assert_eq!(out[3]["region"]["status"], "abolished");
    }

    #[test]
    fn strict_turns_unknown_regions_into_errors() {
        let lax = lines(&["110199198001010016"], "");
        assert_eq!(
            (lax[0]["valid"].clone(), lax[0]["warnings"][0]["code"].clone()),
            (true.into(), "unknown_region".into())
        );
        let strict = lines(&["--strict", "110199198001010016"], "");
        assert_eq!(strict[0]["valid"], false);
        assert_eq!(strict[0]["errors"][0]["code"], "unknown_region");
        assert_eq!(strict[0]["region"]["status"], "unknown");
    }

    #[test]
    fn kind_and_today_options() {
        let out = lines(&["--kind", "passport", "x1234567"], "");
        assert_eq!((out[0]["valid"].clone(), out[0]["kind"].clone()), (true.into(), "passport".into()));
        // Born 2024-06-02 is in the future on 2024-06-01, fine a day later.
        let n = "110105202406020019";
        assert_eq!(lines(&[n], "")[0]["errors"][0]["code"], "birth_date_in_future");
        let mut out = Vec::new();
        run(&args(&["--today", "2024-06-02", n]), &mut "".as_bytes(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v["valid"].clone(), v["age"].clone(), v["under_14"].clone()), (true.into(), 0.into(), true.into()));
    }

    #[test]
    fn detection_only_considers_documents_with_a_check_character() {
        // A bare 8-digit string is no Taiwan travel permit unless the caller says so.
        let out = lines(&["12345678", "H12345678", "E12345678"], "");
        for v in &out {
            assert_eq!((v["valid"].clone(), v["kind"].clone()), (false.into(), "resident_id".into()), "{v}");
        }
        let out = lines(&["--kind", "tw_travel_permit", "12345678"], "");
        assert_eq!((out[0]["valid"].clone(), out[0]["kind"].clone()), (true.into(), "tw_travel_permit".into()));
    }

    #[test]
    fn permit_provinces_need_exactly_their_one_region() {
        // 810100 is on no document: an error, also without --strict, not an unknown-county warning.
        let out = lines(&["810100199001010014", "810000199001010019"], "");
        assert_eq!(out[0]["valid"], false);
        assert_eq!(out[0]["kind"], "hk_mo_tw_residence_permit");
        assert_eq!(out[0]["errors"][0]["code"], "invalid_region");
        assert_eq!(out[0]["warnings"], Value::Array(vec![]));
        assert_eq!(out[1]["valid"], true);
    }

    #[test]
    fn invalid_inputs_are_results_not_errors() {
        let out = lines(&["", "-12345", "not a number"], "");
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|v| v["valid"] == false));
        assert_eq!(out[0]["errors"][0]["code"], "empty");
    }

    #[test]
    fn usage_errors() {
        let run_args = |a: &[&str]| run(&args(a), &mut "".as_bytes(), &mut Vec::new());
        assert!(matches!(run_args(&[]), Err(UsageError::NoInput)));
        assert!(matches!(run_args(&["--bogus", "1"]), Err(UsageError::UnknownOption(o)) if o == "--bogus"));
        assert!(matches!(run_args(&["--kind"]), Err(UsageError::MissingValue("--kind"))));
        assert!(matches!(run_args(&["--kind", "licence", "1"]), Err(UsageError::UnknownKind(_))));
        assert!(matches!(run_args(&["--today", "2023-02-29", "1"]), Err(UsageError::BadDate(_))));
        assert_eq!(run_args(&["--kind"]).unwrap_err().exit_code(), 2);
        // `--` lets an ID start with a dash.
        let mut out = Vec::new();
        run(&args(&["--today", "2024-06-01", "--", "--strict"]), &mut "".as_bytes(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v["input"].clone(), v["valid"].clone()), ("--strict".into(), false.into()));
    }

    #[test]
    fn help_goes_to_output() {
        let mut out = Vec::new();
        run(&args(&["--help"]), &mut "".as_bytes(), &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("usage: realname-server validate-id"));
    }

    #[test]
    fn write_failures_are_io_errors() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = run(&args(&["11010519491231002X"]), &mut "".as_bytes(), &mut Broken).unwrap_err();
        assert_eq!(err.exit_code(), 1);
    }
}
