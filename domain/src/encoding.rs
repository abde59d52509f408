//! Text encodings of bytes, in one place: hex (hashes, keys, signatures, SQL literals) and RFC 3986
//! percent-encoding (provider request signing).

/// Encodes lowercase hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Decodes lowercase or uppercase hex.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// A SHA-256 hash from exactly 64 hex digits.
pub fn hex_decode_32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    hex_decode(s)?.try_into().ok()
}

/// RFC 3986 percent-encoding of everything but unreserved characters (`A–Z a–z 0–9 - _ . ~`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let h = [0xa5u8; 32];
        assert_eq!(hex_encode(&[0x00, 0x0f, 0xff]), "000fff");
        assert_eq!(hex_decode("000FfF"), Some(vec![0x00, 0x0f, 0xff]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode_32(&hex_encode(&h)), Some(h));
        assert_eq!(hex_decode_32("zz"), None);
        assert_eq!(hex_decode_32(&"é".repeat(32)), None);
    }

    #[test]
    fn percent_encodes_all_but_unreserved() {
        assert_eq!(percent_encode("a b*~/é"), "a%20b%2A~%2F%C3%A9");
        assert_eq!(percent_encode("zJDF+Lrzhj/ThnlvIToysFRq6t4="), "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D");
    }
}
