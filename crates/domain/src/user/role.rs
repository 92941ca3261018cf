//! The roles of DESIGN.md.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What a user does in the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 网格员: patrols, reports, resolves small matters, verifies.
    GridWorker,
    /// 群众: reports and follows own matters.
    Citizen,
    /// 社会治理中心 dispatcher.
    Dispatcher,
    /// 职能部门 handler; scoped to a department.
    Handler,
    /// 调解员.
    Mediator,
    /// 研判 analyst.
    Analyst,
    /// 领导: reads everything in scope, changes nothing.
    Leader,
    /// Administrator of regions, grids, users, departments.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::GridWorker,
        Role::Citizen,
        Role::Dispatcher,
        Role::Handler,
        Role::Mediator,
        Role::Analyst,
        Role::Leader,
        Role::Admin,
    ];

    /// The word used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::Citizen => "citizen",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::Mediator => "mediator",
            Role::Analyst => "analyst",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Result<Role, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::invalid("role", format!("unknown role '{s}'")))
    }

    /// The Chinese name shown in the interface.
    pub fn zh(self) -> &'static str {
        match self {
            Role::GridWorker => "网格员",
            Role::Citizen => "群众",
            Role::Dispatcher => "治理中心调度员",
            Role::Handler => "职能部门办理人",
            Role::Mediator => "调解员",
            Role::Analyst => "研判分析员",
            Role::Leader => "领导",
            Role::Admin => "系统管理员",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
