//! Who may read, change and reveal base data (residents, households, buildings, houses, places,
//! organisations, tags and visits) at a node of the tree. Scoped like events: a grid worker
//! their grid, a village dispatcher their subtree; leaders and analysts read (and count) but
//! change nothing; departments and mediators have no part in the register; a citizen sees only
//! their own household, which the adapters decide by the record, not by the node.

use crate::tree::NodeCode;
use crate::user::{Actor, Role, Scope};

/// What an actor may do with base data at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseAccess {
    /// List, search and open records (personal data masked).
    pub read: bool,
    /// Create, change, move out; log visits; tag.
    pub write: bool,
    /// Reveal one field of personal data with a stated purpose (audited).
    pub reveal: bool,
}

impl BaseAccess {
    pub const NONE: BaseAccess = BaseAccess {
        read: false,
        write: false,
        reveal: false,
    };
}

/// What `actor` may do with base data at `node`.
pub fn base_access(actor: &Actor, node: &NodeCode) -> BaseAccess {
    if !matches!(actor.scope, Scope::Node(_)) || !actor.reaches(node) {
        return BaseAccess::NONE;
    }
    match actor.role {
        Role::Admin | Role::Dispatcher | Role::GridWorker => BaseAccess {
            read: true,
            write: true,
            reveal: true,
        },
        Role::Leader | Role::Analyst => BaseAccess {
            read: true,
            write: false,
            reveal: false,
        },
        _ => BaseAccess::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: Scope) -> Actor {
        Actor {
            user_id: 1,
            role,
            scope,
        }
    }

    #[test]
    fn base_data_is_scoped_like_events() {
        let code = |s: &str| NodeCode::parse(s).unwrap();
        let village = code("441502001001");
        let grid = code("441502001001001");
        let other_grid = code("441502001001002");
        let node = |c: &NodeCode| Scope::Node(c.clone());
        let rw = BaseAccess {
            read: true,
            write: true,
            reveal: true,
        };
        let ro = BaseAccess {
            read: true,
            write: false,
            reveal: false,
        };
        let cases = [
            (actor(Role::GridWorker, node(&grid)), &grid, rw),
            (
                actor(Role::GridWorker, node(&grid)),
                &other_grid,
                BaseAccess::NONE,
            ),
            (actor(Role::Dispatcher, node(&village)), &other_grid, rw),
            (actor(Role::Admin, node(&village)), &grid, rw),
            (actor(Role::Leader, node(&village)), &grid, ro),
            (actor(Role::Analyst, node(&village)), &grid, ro),
            (
                actor(Role::Mediator, node(&village)),
                &grid,
                BaseAccess::NONE,
            ),
            (
                actor(
                    Role::Handler,
                    Scope::Department {
                        id: 1,
                        region: village.clone(),
                    },
                ),
                &grid,
                BaseAccess::NONE,
            ),
            (actor(Role::Citizen, Scope::Own), &grid, BaseAccess::NONE),
            (
                actor(Role::Dispatcher, node(&grid)),
                &village,
                BaseAccess::NONE,
            ),
        ];
        for (a, n, want) in cases {
            assert_eq!(base_access(&a, n), want, "{:?} at {}", a.role, n.as_str());
        }
    }
}
