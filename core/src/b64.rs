//! Base64 (RFC 4648) for the two forms realname uses: unpadded base64url (§5) on the wire (envelopes, keys, photos)
//! and padded standard base64 (§4) in `data:` URLs (the browser's JPEG encoder, photo previews).
//!
//! A few dozen lines instead of the `base64` crate: the widget carries it in its size budget, and these two
//! fixed forms need none of the crate's configurability. Decoding is strict in both forms: a character outside
//! the alphabet, a wrong length, padding where none belongs (or missing where it does), or non-zero unused bits
//! in the last character are all refused, so every byte string has exactly one accepted text form.

/// Which of the two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// base64url without padding (RFC 4648 §5): `-` and `_`, no `=`.
    UrlNoPad,
    /// Standard base64 with padding (RFC 4648 §4): `+` and `/`, `=` to a multiple of four.
    StandardPadded,
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Form {
    fn symbol(self, v: u32) -> char {
        let c = STANDARD[(v & 63) as usize];
        (match (self, c) {
            (Form::UrlNoPad, b'+') => b'-',
            (Form::UrlNoPad, b'/') => b'_',
            _ => c,
        }) as char
    }

    fn value(self, c: u8) -> Option<u32> {
        Some(match (self, c) {
            (_, b'A'..=b'Z') => c - b'A',
            (_, b'a'..=b'z') => c - b'a' + 26,
            (_, b'0'..=b'9') => c - b'0' + 52,
            (Form::UrlNoPad, b'-') | (Form::StandardPadded, b'+') => 62,
            (Form::UrlNoPad, b'_') | (Form::StandardPadded, b'/') => 63,
            _ => return None,
        } as u32)
    }
}

/// Encodes `bytes` in `form`.
pub fn encode(bytes: &[u8], form: Form) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        // 1 byte → 2 symbols, 2 → 3, 3 → 4.
        for i in 0..=chunk.len() {
            out.push(form.symbol(n >> (18 - 6 * i)));
        }
        if form == Form::StandardPadded {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes `text` in `form`; `None` for anything that is not exactly the encoding of some byte string.
pub fn decode(text: &str, form: Form) -> Option<Vec<u8>> {
    let mut s = text.as_bytes();
    if form == Form::StandardPadded {
        if !s.len().is_multiple_of(4) {
            return None;
        }
        let pad = s.iter().rev().take(2).take_while(|c| **c == b'=').count();
        s = &s[..s.len() - pad];
    }
    // A last group of one symbol carries only 6 bits: never a byte.
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= form.value(*c)? << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        // The unused low bits of a short last group must be zero (one text form per byte string).
        if n & (0xff_ffff >> (8 * len)) != 0 {
            return None;
        }
        out.extend((0..len).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_vectors() {
        let vectors = [
            ("", "", ""),
            ("f", "Zg==", "Zg"),
            ("fo", "Zm8=", "Zm8"),
            ("foo", "Zm9v", "Zm9v"),
            ("foob", "Zm9vYg==", "Zm9vYg"),
            ("fooba", "Zm9vYmE=", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
        ];
        for (plain, std, url) in vectors {
            assert_eq!(encode(plain.as_bytes(), Form::StandardPadded), std);
            assert_eq!(encode(plain.as_bytes(), Form::UrlNoPad), url);
            assert_eq!(decode(std, Form::StandardPadded).as_deref(), Some(plain.as_bytes()));
            assert_eq!(decode(url, Form::UrlNoPad).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn the_two_alphabets_differ_in_62_and_63() {
        let bytes = [0xfb, 0xff, 0xbf];
        assert_eq!(encode(&bytes, Form::StandardPadded), "+/+/");
        assert_eq!(encode(&bytes, Form::UrlNoPad), "-_-_");
        assert_eq!(decode("-_-_", Form::UrlNoPad).as_deref(), Some(&bytes[..]));
        assert_eq!(decode("+/+/", Form::UrlNoPad), None);
        assert_eq!(decode("-_-_", Form::StandardPadded), None);
    }

    #[test]
    fn refuses_every_malformed_text() {
        for bad in ["Zg=", "Zg==", "Z", "Zm9vY", "Zh", "Zm9=", "Zm 9v", "Zm9v\n", "Zm9v=", "é"] {
            assert_eq!(decode(bad, Form::UrlNoPad), None, "{bad:?}");
        }
        for bad in ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "=Zg=", "Zm9v====", "Zm-v", "Zm_v"] {
            assert_eq!(decode(bad, Form::StandardPadded), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            for form in [Form::UrlNoPad, Form::StandardPadded] {
                prop_assert_eq!(decode(&encode(&bytes, form), form), Some(bytes.clone()));
            }
        }

        #[test]
        fn decodes_only_canonical_text(text in "[A-Za-z0-9_=-]{0,12}") {
            if let Some(bytes) = decode(&text, Form::UrlNoPad) {
                prop_assert_eq!(encode(&bytes, Form::UrlNoPad), text);
            }
        }
    }
}
