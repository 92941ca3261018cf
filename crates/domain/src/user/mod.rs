//! People: roles, scopes, and the permission rules every handler asks.

pub mod permission;
pub mod person;
pub mod role;
pub mod scope;

pub use permission::Actor;
pub use role::Role;
pub use scope::Scope;

use std::fmt;

use crate::DomainError;

/// A login name: 3–64 characters of lowercase ASCII letters, digits, `_`, `.` or `-`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Checks and lowercases a login name.
    pub fn parse(s: &str) -> Result<Username, DomainError> {
        let s = s.trim().to_ascii_lowercase();
        if s.len() < 3 || s.len() > 64 {
            return Err(DomainError::invalid(
                "username",
                "must be 3 to 64 characters",
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
        {
            return Err(DomainError::invalid(
                "username",
                "may contain only letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Username(s))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({})", self.0)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed, before hashing. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Shortest password accepted for a new or changed password.
    pub const MIN: usize = 10;
    /// Longest password accepted (argon2 input stays bounded).
    pub const MAX: usize = 128;
    /// Least zxcvbn score accepted (0–4): 2 means more than 10⁶ guesses, which no common
    /// password, keyboard walk, repeated character or dictionary word with a digit reaches.
    pub const MIN_SCORE: u8 = 2;

    /// Checks a new password: 10 to 128 characters and not easy to guess (zxcvbn, which knows
    /// the common-password lists, keyboard patterns, repeats, sequences and dates). `hints` are
    /// the words of the account (username, display name) that a password must not lean on.
    pub fn new_checked(s: &str, hints: &[&str]) -> Result<Password, DomainError> {
        let n = s.chars().count();
        if n < Self::MIN || n > Self::MAX {
            return Err(DomainError::invalid(
                "password",
                format!("must be {} to {} characters", Self::MIN, Self::MAX),
            ));
        }
        if s.trim().is_empty() {
            return Err(DomainError::invalid("password", "must not be only spaces"));
        }
        if s.contains('\0') {
            return Err(DomainError::invalid(
                "password",
                "must not contain a NUL character",
            ));
        }
        let score = zxcvbn::zxcvbn(s, hints).score();
        if (score as u8) < Self::MIN_SCORE {
            return Err(DomainError::invalid(
                "password",
                "is too easy to guess (a common password, a pattern or the account's own name); \
                 use a longer phrase of unrelated words",
            ));
        }
        Ok(Password(s.to_owned()))
    }

    /// Wraps a password as typed at login or as the current password (no strength rule: an
    /// old password stays usable until it is changed). Only the length is bounded.
    pub fn typed(s: &str) -> Result<Password, DomainError> {
        if s.is_empty() || s.chars().count() > 1024 {
            return Err(DomainError::invalid(
                "password",
                "must be 1 to 1024 characters",
            ));
        }
        Ok(Password(s.to_owned()))
    }

    /// The secret, for hashing or verifying only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Login throttling: failed logins counted per key (an account from one client address, or a
/// client address for every account) and the wait they impose. Counting is by the name typed,
/// whether or not such an account exists, so the answers say nothing about which accounts exist;
/// and it is per client address, so an attacker elsewhere cannot lock a real user out.
pub mod throttle {
    /// Failures of one account from one address allowed before waits begin.
    pub const ACCOUNT_FREE: i64 = 5;
    /// Failures from one address (any account) allowed before waits begin.
    pub const ADDRESS_FREE: i64 = 20;
    /// First wait, in seconds; each further failure doubles it.
    pub const FIRST_WAIT: i64 = 15;
    /// Longest wait, in seconds.
    pub const MAX_WAIT: i64 = 15 * 60;
    /// A key with no failure for this long starts afresh, in seconds.
    pub const FORGET_AFTER: i64 = 24 * 3600;

    /// The wait after `failures` failures of a key that allows `free` before waiting: none
    /// below `free`, then 15 s, 30 s, 60 s … up to 15 minutes.
    pub fn wait_after(failures: i64, free: i64) -> Option<i64> {
        if failures < free {
            return None;
        }
        let doublings = (failures - free).min(16) as u32;
        Some((FIRST_WAIT << doublings).min(MAX_WAIT))
    }

    /// A key's state: failures so far and until when (unix ms) it must wait.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct KeyState {
        pub failures: i64,
        pub blocked_until: i64,
        pub updated_at: i64,
    }

    /// The gate of one attempt, decided under the key's lock before the password is checked.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Gate {
        /// Check the password; the key's state becomes this (the attempt counts as a failure
        /// until it succeeds, so attempts racing in parallel cannot all get through).
        Check(KeyState),
        /// Refuse without checking; retry after so many seconds.
        Wait(i64),
    }

    /// Decides an attempt on a key with state `s`, `free` failures allowed, at `now_ms`.
    pub fn gate(s: KeyState, free: i64, now_ms: i64) -> Gate {
        if s.blocked_until > now_ms {
            return Gate::Wait(((s.blocked_until - now_ms) + 999) / 1000);
        }
        let failures = if now_ms - s.updated_at > FORGET_AFTER * 1000 {
            0
        } else {
            s.failures
        } + 1;
        let blocked_until = match wait_after(failures, free) {
            Some(w) => now_ms + w * 1000,
            None => 0,
        };
        Gate::Check(KeyState {
            failures,
            blocked_until,
            updated_at: now_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::throttle::{gate, wait_after, Gate, KeyState};

    #[test]
    fn passwords_never_show_in_debug() {
        let p = Password::new_checked("correct horse battery staple", &[]).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Admin ").unwrap().as_str(), "admin");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("a b c").is_err());
    }

    #[test]
    fn weak_or_short_passwords_are_refused() {
        for weak in [
            "12345678",
            "password",
            "        ",
            "          ",
            "1234567890",
            "password123",
            "qwertyuiop",
            "aaaaaaaaaaaa",
            "shanzhi-admin",
        ] {
            assert!(
                Password::new_checked(weak, &["shanzhi-admin"]).is_err(),
                "{weak:?} was accepted"
            );
        }
        for good in [
            "correct horse battery staple",
            "test-password-1",
            "Lx7#pq-Vw2!t",
        ] {
            assert!(
                Password::new_checked(good, &[]).is_ok(),
                "{good:?} was refused"
            );
        }
    }

    #[test]
    fn failures_wait_longer_and_longer_up_to_fifteen_minutes() {
        assert_eq!(wait_after(4, 5), None);
        assert_eq!(wait_after(5, 5), Some(15));
        assert_eq!(wait_after(6, 5), Some(30));
        assert_eq!(wait_after(60, 5), Some(15 * 60));
    }

    #[test]
    fn parallel_attempts_pass_the_gate_only_until_the_wait_begins() {
        let mut s = KeyState::default();
        let mut checked = 0;
        for _ in 0..32 {
            match gate(s, 5, 1_000_000) {
                Gate::Check(next) => {
                    checked += 1;
                    s = next;
                }
                Gate::Wait(secs) => assert!(secs > 0 && secs <= 15),
            }
        }
        assert_eq!(checked, 5, "only five guesses before the wait");
        // After the wait another guess is allowed, and the next wait doubles.
        match gate(s, 5, 1_000_000 + 15_000) {
            Gate::Check(next) => assert_eq!(next.blocked_until, 1_000_000 + 15_000 + 30_000),
            Gate::Wait(_) => panic!("the wait is over"),
        }
    }

    #[test]
    fn a_day_without_failures_starts_afresh() {
        let s = KeyState {
            failures: 9,
            blocked_until: 0,
            updated_at: 0,
        };
        assert_eq!(
            gate(s, 5, 2 * 86_400_000),
            Gate::Check(KeyState {
                failures: 1,
                blocked_until: 0,
                updated_at: 2 * 86_400_000
            })
        );
    }
}
