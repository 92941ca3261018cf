//! Events and work orders (网格事件 / 工单): the closed loop from report to rating.

pub mod caller;
pub mod duplicate;
pub mod figures;
pub mod inbox;
pub mod notice;
pub mod photo;
pub mod state;

pub use state::{transition, Action, EventState, Refusal, State, Transition};
