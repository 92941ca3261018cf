//! Residents (实有人口) of the base data: who lives in each grid. Their identity numbers are
//! checked here ([`id_number`]), their records ([`record`]); how they are sealed at rest is
//! the store's.

pub mod access;
pub mod id_number;
pub mod record;

pub use access::{base_access, BaseAccess};
pub use id_number::{mask_id_number, IdNumber};
pub use record::{IdKind, Identity, Residence, Resident, ResidentInput, Status};
