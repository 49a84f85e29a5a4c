//! Wrong passwords counted per client address, so one address cannot try a common password
//! against many usernames (the per-username lockout only guards one account at a time).
//! Kept in memory: a restart forgets, which only gives a guesser a fresh window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address a request came from, as the accept loop saw it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// Past this many tracked addresses, expired windows are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct LoginThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long `addr` must wait before trying again, if it used up its window.
    pub fn wait(&self, addr: IpAddr, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        let (start, count) = map.get(&addr)?;
        let elapsed = now.saturating_duration_since(*start);
        (*count >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts a wrong password from `addr`.
    pub fn failed(&self, addr: IpAddr, now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() > SWEEP_ABOVE {
            let window = self.window;
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        let entry = map.entry(addr).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_once_it_used_up_its_window() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.wait(a, t0), None);
            t.failed(a, t0);
        }
        let wait = t.wait(a, t0 + Duration::from_secs(10)).expect("blocked");
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(t.wait(b, t0), None, "other addresses are not affected");
        // A new window starts after the old one ends.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(t.wait(a, later), None);
        t.failed(a, later);
        assert_eq!(t.wait(a, later), None);
    }
}
