//! The allocation-free boolean path for the common case: 18-character resident IDs and residence permits.

use super::date::{Date, days_in_month};
use super::gb11643::{CHECK_CHARS, WEIGHTS};
use super::normalize::{half_width, is_separator};
use super::region::is_province;
use super::{Options, validate_id};

/// Whether `input` is a valid identity number, non-strict, kind detected: exactly
/// `validate_id(input, &Options::new(today)).valid`, without allocating for 18-character resident IDs and
/// residence permits (other shapes take the rich path).
pub fn is_valid_id(input: &str, today: Date) -> bool {
    // Most numbers arrive as exactly 18 plain characters: check those without normalizing first.
    if let Ok(b) = <&[u8; 18]>::try_from(input.as_bytes())
        && let Some(verdict) = plain_18(b, today)
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
pub enum Verdict {
    /// Valid on `today` (and so on any later day: validity depends on the day only through "born on or before").
    Valid,
    /// Invalid on any day (wrong check character, province, calendar date, …).
    Invalid,
    /// Invalid on `today`, but a later day might make it valid (born after `today`; or a shape only the rich
    /// check decides, which this does not analyse).
    InvalidToday,
}

/// [`is_valid_id`] of UTF-8 bytes (invalid UTF-8 is never a valid number), as a [`Verdict`]: a caller that keeps
/// "today" from an earlier clock read needs to read the clock again only for [`Verdict::InvalidToday`].
pub fn id_verdict(input: &[u8], today: Date) -> Verdict {
    if let Ok(b) = <&[u8; 18]>::try_from(input)
        && let Some(verdict) = plain_18(b, today)
    {
        return verdict;
    }
    match std::str::from_utf8(input) {
        Ok(s) if is_valid_id(s, today) => Verdict::Valid,
        Ok(_) => Verdict::InvalidToday,
        Err(_) => Verdict::Invalid,
    }
}

fn slow(input: &str, today: Date) -> bool {
    validate_id(input, &Options::new(today)).valid
}

#[inline]
fn digit(b: u8) -> u32 {
    u32::from(b.wrapping_sub(b'0'))
}

/// `b` as 17 digits and a check character (`0-9`, `X`, `x`), not a foreigner's card (first digit 9): its verdict.
/// `None` for anything else (separators, other characters, `9…`), which takes the general path.
#[inline(always)]
fn plain_18(b: &[u8; 18], today: Date) -> Option<Verdict> {
    let mut sum = 0u32;
    let mut other = false;
    for i in 0..17 {
        let v = b[i].wrapping_sub(b'0');
        other |= v > 9;
        sum += u32::from(v) * WEIGHTS[i];
    }
    let check = if b[17] == b'x' { b'X' } else { b[17] };
    if other || b[0] == b'9' || !(check.is_ascii_digit() || check == b'X') {
        return None;
    }
    if CHECK_CHARS[(sum % 11) as usize] != check {
        return Some(Verdict::Invalid);
    }
    Some(region_and_birth(b, today))
}

/// `d` holds 18 bytes from `0-9` and `X`; the first is not `9` (not a foreigner's card).
#[inline]
fn valid_18(d: &[u8; 18], today: Date) -> bool {
    let mut sum = 0u32;
    for i in 0..17 {
        if d[i] == b'X' {
            return false;
        }
        sum += digit(d[i]) * WEIGHTS[i];
    }
    CHECK_CHARS[(sum % 11) as usize] == d[17] && region_and_birth(d, today) == Verdict::Valid
}

/// The province and birth date of 18 checked characters whose first 14 are digits.
#[inline(always)]
fn region_and_birth(d: &[u8; 18], today: Date) -> Verdict {
    // Residence permits (810000/820000/830000) pass here too: 81–83 are province-level codes, and non-strict
    // validation accepts any county of a real province.
    if !is_province(digit(d[0]) * 10 + digit(d[1])) {
        return Verdict::Invalid;
    }
    let year = digit(d[6]) * 1000 + digit(d[7]) * 100 + digit(d[8]) * 10 + digit(d[9]);
    let month = digit(d[10]) * 10 + digit(d[11]);
    let day = digit(d[12]) * 10 + digit(d[13]);
    let born = year * 10_000 + month * 100 + day;
    if day == 0 || day > days_in_month(year, month) || born < 18_000_101 {
        Verdict::Invalid
    } else if born > today.year() * 10_000 + today.month() * 100 + today.day() {
        Verdict::InvalidToday
    } else {
        Verdict::Valid
    }
}
