//! Score bands: a comparison's cosine score is `match` (the same person: the site may decide at once),
//! `no_match` (different people) or `uncertain` in between (a human decides). The defaults are measured on the test
//! photos (docs/face.md); a site sets its own.

/// Where a score falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// At or above the match threshold.
    Match,
    /// Between the two thresholds.
    Uncertain,
    /// Below the no-match threshold.
    NoMatch,
}

impl Band {
    /// The band's stable name (`match`, `uncertain`, `no_match`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Uncertain => "uncertain",
            Self::NoMatch => "no_match",
        }
    }
}

/// The two thresholds that split scores into bands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A score at or above this is `match`.
    pub matched: f32,
    /// A score below this is `no_match`.
    pub no_match_below: f32,
}

impl Default for Thresholds {
    /// Measured on the test photos (docs/face.md): 36 pairs of the same person scored 0.608 or more, 19 pairs of
    /// different people 0.572 or less; the uncertain band is that gap, about a hundredth in from either side.
    fn default() -> Self {
        Self { matched: 0.60, no_match_below: 0.585 }
    }
}

impl Thresholds {
    /// Whether the thresholds are usable: both in 0..=1, `no_match_below` not above `matched`.
    pub fn is_valid(&self) -> bool {
        let unit = |t: f32| (0.0..=1.0).contains(&t);
        unit(self.matched) && unit(self.no_match_below) && self.no_match_below <= self.matched
    }

    /// The band of a score.
    pub fn band(&self, score: f32) -> Band {
        if score >= self.matched {
            Band::Match
        } else if score < self.no_match_below {
            Band::NoMatch
        } else {
            Band::Uncertain
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_at_the_thresholds() {
        let t = Thresholds { matched: 0.6, no_match_below: 0.5 };
        assert_eq!(t.band(0.6), Band::Match);
        assert_eq!(t.band(0.59), Band::Uncertain);
        assert_eq!(t.band(0.5), Band::Uncertain);
        assert_eq!(t.band(0.49), Band::NoMatch);
        assert_eq!(t.band(f32::NAN), Band::Uncertain, "a NaN decides nothing automatically");
        assert_eq!([Band::Match, Band::Uncertain, Band::NoMatch].map(Band::code), ["match", "uncertain", "no_match"]);
        assert!(Thresholds::default().is_valid());
        assert!(!Thresholds { matched: 0.5, no_match_below: 0.6 }.is_valid());
        assert!(!Thresholds { matched: 1.5, no_match_below: 0.6 }.is_valid());
    }
}
