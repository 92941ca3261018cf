//! The audit chain: each row carries the hash of the one before, so an altered row shows.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One row of the audit log as it is hashed. `before` and `after` are the stored JSON texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
}

impl AuditRecord {
    /// The row's hash: SHA-256 over a canonical JSON array of every field, `prev_hash` included.
    pub fn hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.actor_id,
            self.action,
            self.entity,
            self.entity_id,
            self.before,
            self.after,
            self.prev_hash
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Incremental verifier: feed rows in `seq` order with their stored hashes.
pub struct ChainVerifier {
    expected_prev: String,
    expected_seq: Option<i64>,
    /// Rows checked so far.
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_prev: GENESIS.to_owned(),
            expected_seq: None,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next row; the first broken link is returned as an error.
    pub fn push(&mut self, row: &AuditRecord, stored_hash: &str) -> Result<(), BrokenLink> {
        if let Some(seq) = self.expected_seq {
            if row.seq != seq {
                return Err(BrokenLink {
                    seq: row.seq,
                    reason: format!("row {seq} is missing"),
                });
            }
        }
        if row.prev_hash != self.expected_prev {
            return Err(BrokenLink {
                seq: row.seq,
                reason: "prev_hash does not match the previous row's hash".to_owned(),
            });
        }
        if row.hash() != stored_hash {
            return Err(BrokenLink {
                seq: row.seq,
                reason: "row content does not match its hash".to_owned(),
            });
        }
        self.expected_prev = stored_hash.to_owned();
        self.expected_seq = Some(row.seq + 1);
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditRecord, String)> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    at: 1_700_000_000_000 + seq,
                    actor_id: Some(1),
                    action: "update".into(),
                    entity: "node".into(),
                    entity_id: "441502001001".into(),
                    before: Some(format!("{{\"name\":\"a{seq}\"}}")),
                    after: Some(format!("{{\"name\":\"b{seq}\"}}")),
                    prev_hash: prev.clone(),
                };
                prev = r.hash();
                (r, prev.clone())
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let mut v = ChainVerifier::default();
        for (r, h) in chain(5) {
            v.push(&r, &h).unwrap();
        }
        assert_eq!(v.checked, 5);
    }

    #[test]
    fn an_altered_row_is_named() {
        let mut rows = chain(5);
        rows[2].0.after = Some("{\"name\":\"forged\"}".into());
        let mut v = ChainVerifier::default();
        let err = rows.iter().try_for_each(|(r, h)| v.push(r, h)).unwrap_err();
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn a_deleted_row_is_named() {
        let mut rows = chain(5);
        rows.remove(1);
        let mut v = ChainVerifier::default();
        let err = rows.iter().try_for_each(|(r, h)| v.push(r, h)).unwrap_err();
        assert_eq!(err.seq, 3);
    }
}
