//! Region and nationality look-ups over the generated, compact tables in `table.rs`.

use super::result::RegionStatus;
use super::table::{NATION_ALPHA3, NATION_NUMERIC, PREFECTURE_START, PREFECTURES, PROVINCES, STATUS};

/// Whether `p` (0–99) is a province-level code (11 北京 … 65 新疆, 71 台湾, 81 香港, 82 澳门, 83 for TW permits).
#[inline]
pub const fn is_province(p: u32) -> bool {
    // Two 64-bit halves: a 128-bit shift is a library call on wasm32.
    const LOW: u64 = PROVINCES as u64;
    const HIGH: u64 = (PROVINCES >> 64) as u64;
    match p {
        0..64 => (LOW >> p) & 1 == 1,
        64..100 => (HIGH >> (p - 64)) & 1 == 1,
        _ => false,
    }
}

/// The status of a six-digit region code (current, abolished since 1980, or not in the table).
pub fn region_status(code: u32) -> RegionStatus {
    let p = (code / 10_000) as usize;
    let (Some(&start), Some(&end)) = (PREFECTURE_START.get(p), PREFECTURE_START.get(p + 1)) else {
        return RegionStatus::Unknown;
    };
    let Some(prefectures) = PREFECTURES.get(start as usize..end as usize) else {
        return RegionStatus::Unknown;
    };
    // `code / 100 % 100` < 100, so it fits a byte.
    let Ok(i) = prefectures.binary_search(&((code / 100 % 100) as u8)) else {
        return RegionStatus::Unknown;
    };
    let county = (code % 100) as usize;
    // Two bits per county code, 3 = not a code (see `table.rs`).
    let byte = STATUS.get(start as usize + i).and_then(|row| row.get(county / 4));
    let bits = byte.map_or(3, |b| b >> (county % 4 * 2) & 3);
    match bits {
        1 => RegionStatus::Current,
        2 => RegionStatus::Abolished,
        _ => RegionStatus::Unknown,
    }
}

/// The ISO 3166-1 alpha-3 code of a numeric nationality code, when it is one.
pub fn nationality_alpha3(numeric: u16) -> Option<&'static str> {
    let i = NATION_NUMERIC.binary_search(&numeric).ok()?;
    NATION_ALPHA3.get(i * 3..i * 3 + 3).and_then(|b| std::str::from_utf8(b).ok())
}

/// Whether an alpha-3 code is an ISO 3166-1 nationality.
pub fn is_alpha3(code: &str) -> bool {
    code.len() == 3 && NATION_ALPHA3.chunks_exact(3).any(|c| c == code.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces() {
        for p in [11, 12, 13, 31, 44, 46, 50, 54, 65, 71, 81, 82, 83] {
            assert!(is_province(p), "{p}");
        }
        for p in [0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 80, 84, 90, 99, 100] {
            assert!(!is_province(p), "{p}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(region_status(110105), RegionStatus::Current);
        assert_eq!(region_status(110000), RegionStatus::Current);
        assert_eq!(region_status(110103), RegionStatus::Abolished); // 崇文区, merged 2010
        assert_eq!(region_status(440524), RegionStatus::Abolished); // 潮阳县, the standard's 1880 example
        assert_eq!(region_status(330103), RegionStatus::Abolished); // 下城区, merged 2021
        assert_eq!(region_status(810000), RegionStatus::Current);
        assert_eq!(region_status(110199), RegionStatus::Unknown);
        assert_eq!(region_status(999999), RegionStatus::Unknown);
        assert_eq!(region_status(1_000_000), RegionStatus::Unknown);
    }

    #[test]
    fn status_rows_have_no_zero_bytes() {
        // A zero byte means a broken generator (0 is no status) and would cost the widget size (see table.rs).
        assert!(STATUS.iter().flatten().all(|b| *b != 0 && (0..4).all(|k| b >> (2 * k) & 3 != 0)));
        assert_eq!(PREFECTURES.len(), STATUS.len());
    }

    #[test]
    fn nationalities() {
        assert_eq!(nationality_alpha3(840), Some("USA"));
        assert_eq!(nationality_alpha3(250), Some("FRA"));
        assert_eq!(nationality_alpha3(999), None);
        assert!(is_alpha3("DEU"));
        assert!(!is_alpha3("XXX"));
    }
}
