//! Where a user's writ runs: a node of the tree, a department, or (citizens) only their own.

use crate::tree::NodeCode;

/// The part of the world a user sees and acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A node of the tree and everything under it.
    Node(NodeCode),
    /// A department, which sits at a node of the tree (the level that owns it).
    Department { id: i64, region: NodeCode },
    /// A citizen: their own submissions and public information.
    Own,
}

impl Scope {
    /// The tree node this scope reaches down from, if any.
    pub fn node(&self) -> Option<&NodeCode> {
        match self {
            Scope::Node(c) => Some(c),
            Scope::Department { region, .. } => Some(region),
            Scope::Own => None,
        }
    }
}
