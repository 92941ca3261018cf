//! Permission rules: plain functions every handler calls before it reads or writes.
//!
//! A record outside the actor's scope is reported as *not found* by the adapters, so that a user
//! cannot even learn that it exists; these functions only answer yes or no.

use super::{Role, Scope};
use crate::tree::NodeCode;

/// Who is acting: the authenticated user as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub scope: Scope,
}

impl Actor {
    /// True if the node lies inside the actor's subtree (department handlers: the subtree of the
    /// department's region).
    pub fn reaches(&self, node: &NodeCode) -> bool {
        self.scope.node().is_some_and(|root| root.contains(node))
    }
}

/// May the actor read this region or grid (its name, shape, children)?
pub fn can_view_node(actor: &Actor, node: &NodeCode) -> bool {
    actor.role != Role::Citizen && actor.reaches(node)
}

/// May the actor create, change or import nodes under `parent` (or change `parent` itself)?
/// Only administrators, inside their subtree.
pub fn can_edit_node(actor: &Actor, node: &NodeCode) -> bool {
    actor.role == Role::Admin && matches!(actor.scope, Scope::Node(_)) && actor.reaches(node)
}

/// May the actor create or change a user whose scope is `target`? Administrators, for scopes
/// inside their own subtree. Citizens belong to no part of the tree, so only an administrator
/// of the whole tree (`at_root`: the actor's scope is a root of the stored tree) manages them.
pub fn can_manage_user(actor: &Actor, target: &Scope, at_root: bool) -> bool {
    if actor.role != Role::Admin || !matches!(actor.scope, Scope::Node(_)) {
        return false;
    }
    match target {
        Scope::Own => at_root,
        Scope::Node(n) => actor.reaches(n),
        Scope::Department { region, .. } => actor.reaches(region),
    }
}

/// May the actor create or change a department that sits at `region`?
pub fn can_manage_department(actor: &Actor, region: &NodeCode) -> bool {
    can_edit_node(actor, region)
}

/// May the actor read the audit log? Administrators only, and each only the rows about records
/// in their subtree (the adapter filters); rows about shared settings and the whole chain's
/// verification are for administrators of the whole tree.
pub fn can_read_audit(actor: &Actor) -> bool {
    actor.role == Role::Admin && matches!(actor.scope, Scope::Node(_))
}

/// May the actor change settings every part of the tree shares (categories and their clocks,
/// the working-time calendar)? Only an administrator of the whole tree: `at_root` says the
/// actor's scope is a root of the stored tree. A county administrator must not change the
/// clocks of the city's other counties.
pub fn can_change_shared_settings(actor: &Actor, at_root: bool) -> bool {
    actor.role == Role::Admin && matches!(actor.scope, Scope::Node(_)) && at_root
}

/// Does the role need a department scope (true), a node scope (false), or neither (citizen)?
pub fn scope_kind(role: Role) -> ScopeKind {
    match role {
        Role::Handler => ScopeKind::Department,
        Role::Citizen => ScopeKind::Own,
        _ => ScopeKind::Node,
    }
}

/// The kind of scope a role carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Node,
    Department,
    Own,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> NodeCode {
        NodeCode::parse(s).unwrap()
    }

    fn actor(role: Role, scope: &str) -> Actor {
        Actor {
            user_id: 1,
            role,
            scope: Scope::Node(code(scope)),
        }
    }

    #[test]
    fn a_village_worker_sees_own_village_grids_but_not_the_next_village() {
        let a = actor(Role::GridWorker, "441502001001");
        assert!(can_view_node(&a, &code("441502001001003")));
        assert!(!can_view_node(&a, &code("441502001002003")));
        assert!(
            !can_view_node(&a, &code("441502001000")),
            "not the town above"
        );
    }

    #[test]
    fn only_admins_edit_and_only_inside_their_subtree() {
        let admin = actor(Role::Admin, "441502001000");
        assert!(can_edit_node(&admin, &code("441502001001")));
        assert!(!can_edit_node(&admin, &code("441502002001")));
        let dispatcher = actor(Role::Dispatcher, "441502001000");
        assert!(!can_edit_node(&dispatcher, &code("441502001001")));
    }

    #[test]
    fn a_department_handler_reads_the_departments_region_only() {
        let h = Actor {
            user_id: 2,
            role: Role::Handler,
            scope: Scope::Department {
                id: 9,
                region: code("441502000000"),
            },
        };
        assert!(can_view_node(&h, &code("441502001001")));
        assert!(!can_view_node(&h, &code("441521001001")));
        assert!(!can_edit_node(&h, &code("441502001001")));
    }

    #[test]
    fn citizens_see_no_staff_tree_and_manage_nothing() {
        let c = Actor {
            user_id: 3,
            role: Role::Citizen,
            scope: Scope::Own,
        };
        assert!(!can_view_node(&c, &code("441502001001")));
        assert!(!can_manage_user(&c, &Scope::Own, true));
        assert!(!can_read_audit(&c));
        assert!(!can_change_shared_settings(&c, true));
    }

    #[test]
    fn admins_manage_users_only_inside_their_subtree() {
        let admin = actor(Role::Admin, "441502000000");
        assert!(can_manage_user(
            &admin,
            &Scope::Node(code("441502001001")),
            false
        ));
        assert!(!can_manage_user(
            &admin,
            &Scope::Node(code("441500000000")),
            false
        ));
        assert!(
            !can_manage_user(&admin, &Scope::Own, false),
            "citizens belong to the whole tree's administrators"
        );
        assert!(can_manage_user(&admin, &Scope::Own, true));
    }

    #[test]
    fn only_administrators_of_the_whole_tree_change_shared_settings() {
        let county = actor(Role::Admin, "441502000000");
        assert!(!can_change_shared_settings(&county, false));
        assert!(can_change_shared_settings(&county, true));
        let leader = actor(Role::Leader, "440000000000");
        assert!(!can_change_shared_settings(&leader, true));
    }
}
