//! People: roles, scopes, and the permission rules every handler asks.

pub mod permission;
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
    /// Shortest password accepted.
    pub const MIN: usize = 8;
    /// Longest password accepted (argon2 input stays bounded).
    pub const MAX: usize = 128;

    /// Checks length bounds.
    pub fn parse(s: &str) -> Result<Password, DomainError> {
        let n = s.chars().count();
        if n < Self::MIN || n > Self::MAX {
            return Err(DomainError::invalid(
                "password",
                format!("must be {} to {} characters", Self::MIN, Self::MAX),
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

/// Failed logins in a row that lock an account.
pub const LOCKOUT_AFTER: i64 = 5;
/// How long a lockout lasts, in seconds.
pub const LOCKOUT_SECONDS: i64 = 15 * 60;

/// After a failed login: the new failure count and, when it reaches the limit, until when the
/// account stays locked (unix seconds).
pub fn after_failed_login(failures: i64, now: i64) -> (i64, Option<i64>) {
    let failures = failures + 1;
    if failures >= LOCKOUT_AFTER {
        (failures, Some(now + LOCKOUT_SECONDS))
    } else {
        (failures, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_debug() {
        let p = Password::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Admin ").unwrap().as_str(), "admin");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("a b c").is_err());
    }

    #[test]
    fn the_fifth_failure_locks_the_account() {
        assert_eq!(after_failed_login(0, 100), (1, None));
        assert_eq!(after_failed_login(4, 100), (5, Some(100 + LOCKOUT_SECONDS)));
    }
}
