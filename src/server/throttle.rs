//! Wrong MSS passwords, throttled the way OWASP's authentication guidance asks, so that the
//! throttle itself cannot be turned against users:
//! - per (username, client address) pair, with a growing lock: the guesser is slowed, the
//!   real user logging in from another address is not (the username's own lock, kept in the
//!   database by `service::sessions`, only comes at a much higher ceiling);
//! - per client address, the *distinct* usernames given wrong passwords within a window: a
//!   password sprayed over many usernames is stopped, a colleague behind the branch's NAT
//!   mistyping their own password again and again does not block the branch.
//!
//! Kept in memory: a restart forgets, which only gives a guesser a fresh window (the
//! username's ceiling in the database stays).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address a request came from, as the accept loop saw it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// Past this many tracked addresses or pairs, expired entries are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

/// A pair's wrong passwords are forgotten this long after the last one (or its lock's end).
const PAIR_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// Why a login must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// This username from this address gave too many wrong passwords.
    Pair(Duration),
    /// This address gave wrong passwords for too many usernames.
    Address(Duration),
}

#[derive(Debug)]
pub struct LoginThrottle {
    /// Distinct usernames an address may fail for within `window`.
    usernames_per_address: usize,
    window: Duration,
    /// Failures in a row of a pair before it is locked, and the first lock (then doubling).
    lockout_after: u32,
    lockout: chrono::Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    addresses: HashMap<IpAddr, AddressWindow>,
    pairs: HashMap<(IpAddr, String), Pair>,
}

#[derive(Debug)]
struct AddressWindow {
    start: Instant,
    usernames: HashSet<String>,
}

#[derive(Debug)]
struct Pair {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl LoginThrottle {
    pub fn new(
        usernames_per_address: u32,
        window: Duration,
        lockout_after: u32,
        lockout: chrono::Duration,
    ) -> Self {
        Self {
            usernames_per_address: usernames_per_address.max(1) as usize,
            window,
            lockout_after: lockout_after.max(1),
            lockout,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether `username` from `addr` must wait before trying again, and how long.
    pub fn wait(&self, addr: IpAddr, username: &str, now: Instant) -> Option<Wait> {
        let state = self.state.lock().ok()?;
        let key = (addr, username.trim().to_string());
        if let Some(until) = state.pairs.get(&key).and_then(|p| p.locked_until)
            && until > now
        {
            return Some(Wait::Pair(until - now));
        }
        let w = state.addresses.get(&addr)?;
        let elapsed = now.saturating_duration_since(w.start);
        (w.usernames.len() >= self.usernames_per_address && elapsed < self.window)
            .then(|| Wait::Address(self.window - elapsed))
    }

    /// Counts a wrong password for `username` from `addr`.
    pub fn failed(&self, addr: IpAddr, username: &str, now: Instant) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let username = username.trim().to_string();
        if state.addresses.len() > SWEEP_ABOVE || state.pairs.len() > SWEEP_ABOVE {
            let window = self.window;
            state
                .addresses
                .retain(|_, w| now.saturating_duration_since(w.start) < window);
            state.pairs.retain(|_, p| {
                let since = p.locked_until.unwrap_or(p.last).max(p.last);
                now.saturating_duration_since(since) < PAIR_MEMORY
            });
        }
        let w = state
            .addresses
            .entry(addr)
            .or_insert_with(|| AddressWindow {
                start: now,
                usernames: HashSet::new(),
            });
        if now.saturating_duration_since(w.start) >= self.window {
            w.start = now;
            w.usernames.clear();
        }
        w.usernames.insert(username.clone());
        let pair = state.pairs.entry((addr, username)).or_insert(Pair {
            failures: 0,
            last: now,
            locked_until: None,
        });
        pair.failures = pair.failures.saturating_add(1);
        pair.last = now;
        pair.locked_until =
            crate::domain::people::lockout(pair.failures, self.lockout_after, self.lockout)
                .and_then(|d| d.to_std().ok())
                .map(|d| now + d);
    }

    /// A right password: the pair starts afresh (the address's window stays, so a sprayer who
    /// guesses one account is not let off the others).
    pub fn succeeded(&self, addr: IpAddr, username: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.pairs.remove(&(addr, username.trim().to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(3, Duration::from_secs(60), 3, chrono::Duration::seconds(10))
    }

    #[test]
    fn a_pair_is_locked_with_a_growing_wait_and_other_addresses_are_not() {
        let t = throttle();
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.wait(a, "cm_x", t0), None);
            t.failed(a, "cm_x", t0);
        }
        assert_eq!(
            t.wait(a, "cm_x", t0),
            Some(Wait::Pair(Duration::from_secs(10)))
        );
        assert_eq!(
            t.wait(b, "cm_x", t0),
            None,
            "the user elsewhere is not locked"
        );
        assert_eq!(
            t.wait(a, "cm_y", t0),
            None,
            "another user here is not locked"
        );
        // The next wrong one doubles the lock.
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(t.wait(a, "cm_x", t1), None);
        t.failed(a, "cm_x", t1);
        assert_eq!(
            t.wait(a, "cm_x", t1),
            Some(Wait::Pair(Duration::from_secs(20)))
        );
        t.succeeded(a, "cm_x");
        assert_eq!(t.wait(a, "cm_x", t1), None);
    }

    #[test]
    fn an_address_waits_after_wrong_passwords_for_many_usernames_not_for_one() {
        let t = throttle();
        let a = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        // One colleague mistyping many times: one username.
        for _ in 0..10 {
            t.failed(a, "cm_x", t0);
        }
        assert_eq!(t.wait(a, "cm_y", t0), None, "the branch is not blocked");
        t.failed(a, "cm_y", t0);
        t.failed(a, "cm_z", t0);
        let wait = t.wait(a, "cm_w", t0 + Duration::from_secs(10));
        assert_eq!(wait, Some(Wait::Address(Duration::from_secs(50))));
        // A new window starts after the old one ends.
        assert_eq!(t.wait(a, "cm_w", t0 + Duration::from_secs(61)), None);
    }
}
