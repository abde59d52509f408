//! A circuit breaker per provider: after `threshold` consecutive calls without an answer it opens, and for
//! `open_ms` the checks of that provider are `unavailable` without a call (a failing vendor is not hammered and
//! the person is not kept waiting for the timeout); then one call tries again (half open): an answer closes it,
//! another failure opens it for `open_ms` more. Times come from the injected clock.

/// One provider's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    open_ms: i64,
    failures: u32,
    open_until: Option<i64>,
}

impl Breaker {
    /// A closed breaker opening after `threshold` consecutive failures (0: never) for `open_ms`.
    pub fn new(threshold: u32, open_ms: i64) -> Self {
        Self { threshold, open_ms, failures: 0, open_until: None }
    }

    /// Whether a call may go out at `now`. Once the open time has passed, one call is let through and the
    /// breaker stays open for the others until that call's outcome is recorded (or `open_ms` passes again).
    pub fn admit(&mut self, now: i64) -> bool {
        match self.open_until {
            Some(until) if now < until => false,
            Some(_) => {
                self.open_until = Some(now.saturating_add(self.open_ms));
                true
            }
            None => true,
        }
    }

    /// Records a call's outcome at `now` (`failed`: no answer). True when this opened the breaker.
    pub fn record(&mut self, failed: bool, now: i64) -> bool {
        if !failed {
            self.failures = 0;
            self.open_until = None;
            return false;
        }
        if self.threshold == 0 {
            return false;
        }
        self.failures = self.failures.saturating_add(1);
        let was_open = self.open_until.is_some();
        if was_open || self.failures >= self.threshold {
            self.open_until = Some(now.saturating_add(self.open_ms));
        }
        !was_open && self.open_until.is_some()
    }

    /// Whether it refuses calls at `now`.
    pub fn is_open(&self, now: i64) -> bool {
        self.open_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_half_opens_after_the_open_time() {
        let mut b = Breaker::new(3, 30_000);
        // Two failures, an answer: the count starts again.
        for _ in 0..2 {
            assert!(b.admit(0) && !b.record(true, 0));
        }
        assert!(b.admit(0) && !b.record(false, 0));
        for _ in 0..2 {
            assert!(b.admit(0) && !b.record(true, 0));
        }
        // The third consecutive failure opens it.
        assert!(b.admit(1_000) && b.record(true, 1_000));
        assert!(b.is_open(1_000) && !b.admit(1_000) && !b.admit(30_999));
        // After the open time one call goes out; the others wait for it.
        assert!(b.admit(31_000));
        assert!(!b.admit(31_001));
        // It fails: open again for the whole time, from its failure.
        assert!(!b.record(true, 32_000));
        assert!(!b.admit(61_999) && b.admit(62_000));
        // The trial answers: closed.
        assert!(!b.record(false, 62_500));
        assert!(!b.is_open(62_500) && b.admit(62_500) && b.admit(62_501));
    }

    #[test]
    fn a_zero_threshold_never_opens() {
        let mut b = Breaker::new(0, 30_000);
        for t in 0..100 {
            assert!(b.admit(t) && !b.record(true, t));
        }
    }
}
