//! Disputes (矛盾纠纷多元化解) in the binary crate: what the service builds around the domain's
//! rules. So far the agreement document (调解协议书).

pub mod agreement;
