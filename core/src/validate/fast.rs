//! The allocation-free boolean path for the common case: 18-character resident IDs and residence permits.

use super::date::Date;
use super::gb11643::{CHECK_CHARS, WEIGHTS};
use super::normalize::{half_width, is_separator};
use super::table::PROVINCES;
use super::{Options, validate_id};

/// Whether `input` is a valid identity number, non-strict, kind detected: exactly
/// `validate_id(input, &Options::new(today)).valid`, without allocating for 18-character resident IDs and
/// residence permits (other shapes take the rich path).
pub fn is_valid_id(input: &str, today: Date) -> bool {
    // Most numbers arrive as exactly 18 plain characters: check those without normalizing first.
    if let Ok(b) = <&[u8; 18]>::try_from(input.as_bytes())
        && let Some(verdict) = plain_18(b.map(u32::from), today)
    {
        return verdict == Verdict::Valid;
    }
    let mut d = [0u8; 18];
    let mut n = 0usize;
    if input.is_ascii() {
        // Bytes, not chars: no UTF-8 decoding on the hot path (it matters in size-optimised wasm builds).
        for &b in input.as_bytes() {
            let b = match b {
                b'0'..=b'9' | b'X' => b,
                b'x' => b'X',
                b' ' | b'-' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C => continue,
                _ => return slow(input, today),
            };
            if n == 18 {
                return slow(input, today);
            }
            d[n] = b;
            n += 1;
        }
    } else {
        for c in input.chars() {
            let b = match c {
                '0'..='9' => c as u8,
                'x' | 'X' => b'X',
                _ if is_separator(c) => continue,
                _ => match half_width(c) {
                    h @ '0'..='9' => h as u8,
                    'x' | 'X' => b'X',
                    _ => return slow(input, today),
                },
            };
            let Some(slot) = d.get_mut(n) else { return slow(input, today) };
            *slot = b;
            n += 1;
        }
    }
    if n != 18 || d[0] == b'9' {
        return slow(input, today);
    }
    valid_18(&d, today)
}

/// [`is_valid_id`]'s answer, and whether a later "today" could turn a no into a yes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Verdict {
    /// Invalid on any day (wrong check character, province, calendar date, …).
    Invalid = 0,
    /// Valid on `today` (and so on any later day: validity depends on the day only through "born on or before").
    Valid = 1,
    /// Invalid on `today`, but a later day might make it valid (born after `today`; or a shape only the rich
    /// check decides, which this does not analyse).
    InvalidToday = 2,
}

/// [`is_valid_id`] of UTF-8 bytes (invalid UTF-8 is never a valid number), as a [`Verdict`]: a caller that keeps
/// "today" from an earlier clock read needs to read the clock again only for [`Verdict::InvalidToday`].
pub fn id_verdict(input: &[u8], today: Date) -> Verdict {
    if let Ok(b) = <&[u8; 18]>::try_from(input)
        && let Some(verdict) = plain_18(b.map(u32::from), today)
    {
        return verdict;
    }
    general_verdict(input, today)
}

/// [`id_verdict`] of 18 characters given as numbers (a JS string's UTF-16 code units from `charCodeAt`), for a
/// caller that has them in registers rather than in memory: `Some` for 17 digits and a check character (`0-9`,
/// `X`, `x`) that are not a foreigner's card (first digit 9) — the shape nearly every number has — and `None` for
/// anything else, which the caller passes to [`id_verdict`] as UTF-8.
// `#[inline]`: inlined across crates into the caller, the 18 numbers stay in locals instead of going through memory.
#[inline]
pub fn id_verdict_units(units: [u32; 18], today: Date) -> Option<Verdict> {
    plain_18(units, today)
}

/// Everything but 18 plain characters (separators, full-width digits, 15-digit and foreigners' numbers, …).
/// Out of line: it is large, and inlined into the plain path it made that path slower.
#[cold]
#[inline(never)]
fn general_verdict(input: &[u8], today: Date) -> Verdict {
    match std::str::from_utf8(input) {
        Ok(s) if is_valid_id(s, today) => Verdict::Valid,
        Ok(_) => Verdict::InvalidToday,
        Err(_) => Verdict::Invalid,
    }
}

fn slow(input: &str, today: Date) -> bool {
    validate_id(input, &Options::new(today)).valid
}

/// 18 characters (bytes or UTF-16 code units) as 17 digits and a check character (`0-9`, `X`, `x`), not a
/// foreigner's card (first digit 9): its verdict. `None` for anything else (separators, other characters, `9…`),
/// which takes the general path.
///
/// Free of data-dependent branches past the shape test: valid and invalid numbers arrive in no predictable order,
/// and each mispredicted branch costs about as much as the rest of the check.
#[inline(always)]
fn plain_18(c: [u32; 18], today: Date) -> Option<Verdict> {
    let mut sum = 0u32;
    let mut other = false;
    let mut d = [0u32; 17];
    for i in 0..17 {
        d[i] = c[i].wrapping_sub(u32::from(b'0'));
        other |= d[i] > 9;
        // Wrapping: with a non-digit the sum is garbage, and unused.
        sum = sum.wrapping_add(d[i].wrapping_mul(WEIGHTS[i]));
    }
    let check = if c[17] == u32::from(b'x') { u32::from(b'X') } else { c[17] };
    let check_shape = check.wrapping_sub(u32::from(b'0')) <= 9 || check == u32::from(b'X');
    if other | (d[0] == 9) | !check_shape {
        return None;
    }
    let check_ok = u32::from(CHECK_CHARS[(sum % 11) as usize]) == check;
    // Residence permits pass here too: 81–83 are province-level codes, but only with the county digits 0000
    // (810000/820000/830000 are the only codes these provinces have on any document); non-strict validation
    // accepts any county of another real province.
    let province = d[0] * 10 + d[1];
    let permit_province = province.wrapping_sub(81) <= 2;
    let county_zero = (d[2] | d[3] | d[4] | d[5]) == 0;
    let province_ok = province_bit(province) & (!permit_province | county_zero);
    let year = d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9];
    let month = d[10] * 10 + d[11];
    let day = d[12] * 10 + d[13];
    let born = year * 10_000 + month * 100 + day;
    let date_ok = (day != 0) & (day <= month_days(year, month)) & (born >= 18_000_101);
    let ok = u32::from(check_ok) & u32::from(province_ok) & u32::from(date_ok);
    let future = u32::from(born > today.year() * 10_000 + today.month() * 100 + today.day());
    // Arithmetic rather than `if`s, so that no branch depends on the number (see the discriminants).
    Some(match ok + (ok & future) {
        0 => Verdict::Invalid,
        1 => Verdict::Valid,
        _ => Verdict::InvalidToday,
    })
}

/// [`super::is_province`] without branches, for `p` below 100 (two digits).
#[inline(always)]
fn province_bit(p: u32) -> bool {
    const HALVES: [u64; 2] = [PROVINCES as u64, (PROVINCES >> 64) as u64];
    (HALVES[(p >> 6 & 1) as usize] >> (p & 63)) & 1 == 1
}

/// [`super::days_in_month`] without branches (a table and the leap-year bit), for `month` below 100.
#[inline(always)]
fn month_days(year: u32, month: u32) -> u32 {
    const DAYS: [u8; 16] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0];
    // A multiple of 100 is one of 400 exactly when it is one of 16 (100 = 4 · 25, 400 = 16 · 25).
    let leap = (year & 3 == 0) & (!year.is_multiple_of(100) | (year & 15 == 0));
    u32::from(DAYS[month.min(15) as usize]) + u32::from(leap & (month == 2))
}

/// `d` holds 18 bytes from `0-9` and `X`; the first is not `9` (not a foreigner's card).
#[inline]
fn valid_18(d: &[u8; 18], today: Date) -> bool {
    plain_18(d.map(u32::from), today) == Some(Verdict::Valid)
}

#[cfg(test)]
mod tests {
    use super::super::{check_char, days_in_month, is_province};
    use super::*;

    #[test]
    fn branch_free_helpers_equal_the_plain_ones() {
        for p in 0..100 {
            assert_eq!(province_bit(p), is_province(p), "{p}");
        }
        for year in 0..=9999 {
            for month in 0..100 {
                assert_eq!(month_days(year, month), days_in_month(year, month), "{year}-{month}");
            }
        }
    }

    fn today() -> Date {
        Date::new(2024, 6, 1).unwrap_or(super::super::EARLIEST_BIRTH)
    }

    /// An 18-character number with a correct check character.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_char(body.as_bytes()).unwrap_or('?'))
    }

    /// Whether `s` has the shape [`id_verdict_units`] answers for.
    fn plain(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 18
            && b[..17].iter().all(u8::is_ascii_digit)
            && matches!(b[17], b'0'..=b'9' | b'X' | b'x')
            && b[0] != b'9'
    }

    #[test]
    fn units_agree_with_utf8() {
        let mut inputs: Vec<String> = [
            "11010519491231002X",
            "11010519491231002x",
            "110105194912310021",
            "440524188001010014",
            "810000199001010019",
            "91184019850101001X",
            "11010519491231 02X",
            "110105-194912-3100",
            "１10105194912310021",
            "１１０１０５１９４９１２３１００２Ｘ",
            "11010519491231002？",
            "11010519491231002\u{7f}",
            "1101051949123100X2",
            "XXXXXXXXXXXXXXXXXX",
            "110105194912310/2X",
            "110105194912310:2X",
        ]
        .map(String::from)
        .into();
        inputs
            .extend(["110105", "100105", "830000", "990105", "710105"].map(|r| with_check(&format!("{r}20240601001"))));
        inputs.extend(
            [
                "20240601", "20240602", "19000229", "20000229", "19960229", "17991231", "18000101", "20241301",
                "20240631", "20240600", "20240001",
            ]
            .map(|d| with_check(&format!("110105{d}001"))),
        );
        let mut answered = 0;
        for s in &inputs {
            let units: Vec<u32> = s.encode_utf16().map(u32::from).collect();
            let Ok(units) = <[u32; 18]>::try_from(units) else { continue };
            for today in [today(), Date::new(2024, 6, 2).unwrap_or(today()), Date::new(1800, 1, 1).unwrap_or(today())] {
                let got = id_verdict_units(units, today);
                if plain(s) {
                    assert_eq!(got, Some(id_verdict(s.as_bytes(), today)), "{s} on {today}");
                    answered += 1;
                } else {
                    assert_eq!(got, None, "{s}");
                }
            }
        }
        assert!(answered >= 60, "{answered}");
        // Units past ASCII, also surrogates and values outside u16, are never digits nor a check character.
        let mut units = "11010519491231002X".encode_utf16().map(u32::from).collect::<Vec<_>>();
        for bad in [0x80, 0xff, 0x130, 0xd800, 0xff10, 0x1_0030, 0x1_0058, 0xffff_ffff] {
            for at in [3, 17] {
                let mut u = units.clone();
                u[at] = bad;
                assert_eq!(id_verdict_units(u.try_into().unwrap_or([0; 18]), today()), None, "{bad:#x} at {at}");
            }
        }
        units[17] = u32::from(b'x');
        assert_eq!(id_verdict_units(units.try_into().unwrap_or([0; 18]), today()), Some(Verdict::Valid));
    }
}
