//! Warnings to people (预警发布): the CAP 1.2 rendering, the senders and the outbox worker.
//! The HTTP side is `http::api::warning`; the storage `shanzhi_store::warning`.

pub mod cap;
pub mod outbox;
pub mod sender;
