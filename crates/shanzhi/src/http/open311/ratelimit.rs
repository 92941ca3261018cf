//! Rate limits per api_key: a token bucket per key, holding up to one minute's allowance and
//! refilled continuously.
//!
//! The buckets live in this process (a `static`), so with several servers behind a load
//! balancer each one allows the rate on its own: the effective limit is the rate times the
//! number of servers. That is the price of keeping the servers free of shared state; a client
//! that needs a hard global cap should get a lower per-server rate. Buckets are keyed by the
//! api_key's hash, and only keys of registered clients get one, so the map stays as small as
//! the list of clients.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

struct Bucket {
    tokens: f64,
    at_ms: i64,
}

fn buckets() -> &'static Mutex<HashMap<String, Bucket>> {
    static BUCKETS: OnceLock<Mutex<HashMap<String, Bucket>>> = OnceLock::new();
    BUCKETS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Takes one token from the key's bucket at `now_ms`, or says how many seconds until one is
/// free. A rate of zero or less refuses every request.
pub fn take(key_hash: &str, per_minute: i64, now_ms: i64) -> Result<(), u64> {
    if per_minute <= 0 {
        return Err(60);
    }
    let capacity = per_minute as f64;
    let per_ms = capacity / 60_000.0;
    let mut map = buckets().lock().unwrap_or_else(|p| p.into_inner());
    let b = map.entry(key_hash.to_owned()).or_insert(Bucket {
        tokens: capacity,
        at_ms: now_ms,
    });
    // A clock that steps back (tests, NTP) adds nothing.
    let elapsed = (now_ms - b.at_ms).max(0) as f64;
    b.tokens = (b.tokens + elapsed * per_ms).min(capacity);
    b.at_ms = b.at_ms.max(now_ms);
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        Ok(())
    } else {
        let wait_ms = (1.0 - b.tokens) / per_ms;
        Err((wait_ms / 1000.0).ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_minutes_burst_then_refills_with_time() {
        let key = "ratelimit-unit-test-key";
        for _ in 0..3 {
            assert!(take(key, 3, 1_000).is_ok());
        }
        assert_eq!(take(key, 3, 1_000), Err(20));
        assert!(take(key, 3, 21_000).is_ok(), "one token back after 20 s");
        assert!(take(key, 3, 21_000).is_err());
        assert!(
            take("ratelimit-unit-test-other", 3, 1_000).is_ok(),
            "keys do not share buckets"
        );
        assert_eq!(take("ratelimit-unit-test-zero", 0, 1_000), Err(60));
    }
}
