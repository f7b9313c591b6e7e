//! Roles, ordered from least to most privileged.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `viewer < analyst < km_admin < admin`; the derived `Ord` follows declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Analyst,
    KmAdmin,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::KmAdmin, Role::Admin];

    /// What someone with this role may do, in a sentence for the places roles are picked.
    pub fn description(self) -> &'static str {
        match self {
            Role::Viewer => "Reads the datasets shared with them and their own account.",
            Role::Analyst => "Also queries datasets with SQL and syncs them to a laptop.",
            Role::KmAdmin => {
                "Knowledge manager: also curates the platform's shared knowledge; \
                 cannot manage users, tokens or the audit log."
            }
            Role::Admin => "Everything, including users, everyone's tokens and the audit log.",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::KmAdmin => "km_admin",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role string that names no role; its `Display` is the contract's `Unknown role: <x>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Unknown role: {}", self.0)
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Viewer < Role::Analyst);
        assert!(Role::Analyst < Role::KmAdmin);
        assert!(Role::KmAdmin < Role::Admin);
    }

    #[test]
    fn role_strings_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert_eq!(
            "root".parse::<Role>().unwrap_err().to_string(),
            "Unknown role: root"
        );
    }
}
