//! Wire types of groups and memberships (`API.md` §10).

use crate::Role;
use crate::dto::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How someone came to be in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipSource {
    /// Added by an admin; single sign-on never touches it.
    Admin,
    /// Mirrors the identity provider's groups claim, replaced at every SSO sign-in.
    Sso,
}

impl MembershipSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipSource::Admin => "admin",
            MembershipSource::Sso => "sso",
        }
    }
}

/// `Group` of `API.md` §10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The role membership grants, if any.
    pub role: Option<Role>,
    /// The identity provider's group values that map onto this group.
    pub external_ids: Vec<String>,
    pub member_count: u64,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// `GET /api/groups`: one page and how many match (`X-Total-Count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPage {
    pub groups: Vec<Group>,
    pub total: u64,
}

/// The query of `GET /api/groups`, as sent (checked by the service).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

/// `POST /api/groups`. `role` stays a string so an unknown one is a 400 naming it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupRequest {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub external_ids: Option<Vec<String>>,
}

/// `PATCH /api/groups/{id}`: any of the create fields, at least one; `"role": null` clears the
/// role the group grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateGroupRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::tokens::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub role: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ids: Option<Vec<String>>,
}

/// A member as `GET /api/groups/{id}/members` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub source: MembershipSource,
    #[serde(with = "rfc3339")]
    pub added_at: DateTime<Utc>,
}

/// A group as `GET /api/users/{id}/groups` lists it for that user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroup {
    pub id: Uuid,
    pub name: String,
    pub role: Option<Role>,
    pub source: MembershipSource,
}

/// A group as `/api/me` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub id: Uuid,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_role_clears_and_an_absent_one_keeps() {
        let keep: UpdateGroupRequest = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(keep.role, None);
        let clear: UpdateGroupRequest = serde_json::from_str(r#"{"role":null}"#).unwrap();
        assert_eq!(clear.role, Some(None));
        let set: UpdateGroupRequest = serde_json::from_str(r#"{"role":"admin"}"#).unwrap();
        assert_eq!(set.role, Some(Some("admin".into())));
    }
}
