//! Pauses between attempts, for every loop that tries again: the workstation's change-stream
//! reconnects (`client::sync`), its reconnects at start-up (`tui::connect`), and the notification
//! worker's retries (`notify::RetryPolicy`, stored as instants in SQLite).
//!
//! Exponential with jitter in the upper half ("equal jitter"): the ceiling doubles from `base`
//! after each failure up to `max`, and the pause is drawn from `[ceiling / 2, ceiling]`. The
//! spread keeps the desks that lost a restarted server (or the notifications queued behind a
//! dead endpoint) from all coming back in the same instant; the floor keeps a pause from
//! shrinking to nothing, which full jitter allows, and keeps the pauses growing attempt by
//! attempt.
//!
//! Pure: the attempt number and the randomness come in, a pause goes out. That is why this is
//! not `backon`: its backoffs are iterators that keep their own state and random source (and its
//! jitter adds up to the whole delay again, past its own maximum), while the notification worker
//! has only a row's attempt count to go on, and tests need the randomness in their hands.

use std::time::Duration;

/// How the pause grows: `base` after the first failure, doubling up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The longest pause after the `attempt`-th failure (1 = the first; 0 counts as 1):
    /// `base × 2^(attempt−1)`, never above `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The pause after the `attempt`-th failure: within `[ceiling / 2, ceiling]`, placed by
    /// `random`, a uniformly drawn `u64` (0 gives the floor, `u64::MAX` all but the ceiling).
    /// Ceilings beyond `u64::MAX` nanoseconds (about 584 years) are treated as that.
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        let floor = ceiling - ceiling / 2;
        let span = ceiling / 2;
        // span < 2^64 and random < 2^64, so the product fits in u128; the shift scales it to
        // [0, span).
        let extra = ((u128::from(span) * u128::from(random)) >> 64) as u64;
        Duration::from_nanos(floor + extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECONNECT: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));

    /// Spread over the whole range of the random input.
    const RANDOMS: [u64; 7] = [
        0,
        1,
        u64::MAX / 4,
        u64::MAX / 2,
        u64::MAX / 4 * 3,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn the_ceiling_doubles_from_base_up_to_max() {
        let cases: &[(u32, u64)] = &[
            (0, 500),
            (1, 500),
            (2, 1_000),
            (3, 2_000),
            (5, 8_000),
            (6, 15_000),
            (7, 15_000),
            (40, 15_000),
            (u32::MAX, 15_000),
        ];
        for &(attempt, millis) in cases {
            assert_eq!(
                RECONNECT.ceiling(attempt),
                Duration::from_millis(millis),
                "{attempt}"
            );
        }
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_ceiling() {
        for attempt in [0, 1, 2, 3, 4, 6, 10, 31, 32, 1_000, u32::MAX] {
            let ceiling = RECONNECT.ceiling(attempt);
            for random in RANDOMS {
                let d = RECONNECT.delay(attempt, random);
                assert!(d <= ceiling, "{attempt}/{random}: {d:?} > {ceiling:?}");
                assert!(d >= ceiling / 2, "{attempt}/{random}: {d:?} < half");
                assert!(d <= RECONNECT.max, "{attempt}/{random}: above the cap");
            }
        }
        // The ends of the random range reach the ends of the pause's range.
        assert_eq!(RECONNECT.delay(3, 0), Duration::from_secs(1));
        assert_eq!(RECONNECT.delay(3, 1 << 63), Duration::from_millis(1_500));
        let top = RECONNECT.delay(3, u64::MAX);
        assert!(
            Duration::from_secs(2) - top < Duration::from_micros(1),
            "{top:?}"
        );
    }

    #[test]
    fn pauses_grow_with_the_attempts_until_the_cap() {
        // Whatever the draws, a later attempt never waits less than an earlier one could
        // at the least: each floor is the previous ceiling, until the cap.
        for attempt in 1..20 {
            let earliest_next = RECONNECT.delay(attempt + 1, 0);
            let latest_now = RECONNECT.delay(attempt, u64::MAX);
            if RECONNECT.ceiling(attempt + 1) < RECONNECT.max {
                assert!(earliest_next >= latest_now, "{attempt}");
            } else {
                assert!(earliest_next >= RECONNECT.max / 2, "{attempt}");
            }
        }
    }

    #[test]
    fn odd_settings_stay_bounded() {
        // Base above max: max throughout.
        let b = Backoff::new(Duration::from_secs(60), Duration::from_secs(10));
        assert_eq!(b.ceiling(1), Duration::from_secs(10));
        assert!(b.delay(1, u64::MAX) <= Duration::from_secs(10));
        // Zero: no pause at all.
        let zero = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.delay(5, u64::MAX), Duration::ZERO);
        // Huge: no overflow, still under the cap.
        let huge = Backoff::new(Duration::from_secs(u64::MAX / 2), Duration::MAX);
        for random in RANDOMS {
            assert!(huge.delay(u32::MAX, random) <= Duration::from_nanos(u64::MAX));
        }
        // A one-nanosecond ceiling.
        let tiny = Backoff::new(Duration::from_nanos(1), Duration::from_nanos(1));
        for random in RANDOMS {
            assert_eq!(tiny.delay(1, random), Duration::from_nanos(1));
        }
    }
}
