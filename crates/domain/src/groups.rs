//! Groups and memberships (`API.md` §10): admins manage groups that grant roles; single sign-on
//! mirrors the identity provider's groups into `sso` memberships. Every change invalidates what
//! the auth path cached, so it applies to the members' very next request.

use crate::audit;
use crate::cache::Invalidation;
use crate::error::{Error, detail};
use crate::params::{parse_limit, parse_offset, parse_role, seconds, text_filter};
use crate::policy::Admin;
use crate::services::{ClientInfo, Services};
use crate::store::{
    AddMemberOutcome, AuditRecord, GroupChange, GroupFilter, GroupOutcome, GroupRecord,
    RemoveMemberOutcome, UserRecord,
};
use chrono::Utc;
use da_types::paging::GROUPS_MAX;
use da_types::validation::check_no_control_chars;
use da_types::{
    CreateGroupRequest, Group, GroupListParams, GroupMember, GroupPage, MembershipSource,
    UpdateGroupRequest, UserGroup,
};
use uuid::Uuid;

const EXTERNAL_IDS_MAX: usize = 100;
const EXTERNAL_ID_MAX_CHARS: usize = 256;

/// The identity provider's values: trimmed, non-empty, each once, in the order given.
fn external_ids(raw: &[String]) -> Result<Vec<String>, Error> {
    let mut ids: Vec<String> = Vec::new();
    for value in raw {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid("external_ids must not contain empty values"));
        }
        if value.chars().count() > EXTERNAL_ID_MAX_CHARS {
            return Err(Error::invalid(format!(
                "external_ids values must be at most {EXTERNAL_ID_MAX_CHARS} characters"
            )));
        }
        check_no_control_chars("external_ids", value).map_err(Error::Invalid)?;
        if !ids.iter().any(|known| known == value) {
            ids.push(value.to_owned());
        }
    }
    if ids.len() > EXTERNAL_IDS_MAX {
        return Err(Error::invalid(format!(
            "external_ids must have at most {EXTERNAL_IDS_MAX} values"
        )));
    }
    Ok(ids)
}

fn group_view(group: &GroupRecord, member_count: u64) -> Group {
    Group {
        id: group.id,
        name: group.name.clone(),
        description: group.description.clone(),
        role: group.role,
        external_ids: group.external_ids.clone(),
        member_count,
        created_at: seconds(group.created_at),
        updated_at: seconds(group.updated_at),
    }
}

fn not_found() -> Error {
    Error::NotFound(detail::GROUP_NOT_FOUND.into())
}

fn name_taken() -> Error {
    Error::Conflict(detail::GROUP_NAME_TAKEN.into())
}

impl Services {
    async fn existing_group(&self, id: Uuid) -> Result<GroupRecord, Error> {
        self.inner
            .store
            .group_by_id(id)
            .await?
            .ok_or_else(not_found)
    }

    async fn member_count(&self, id: Uuid) -> Result<u64, Error> {
        Ok(self.inner.store.group_members(id).await?.len() as u64)
    }

    /// `GET /api/groups`.
    pub async fn list_groups(
        &self,
        _admin: &Admin,
        params: &GroupListParams,
    ) -> Result<GroupPage, Error> {
        let filter = GroupFilter {
            search: text_filter(params.q.as_deref()),
            limit: parse_limit(params.limit.as_deref(), GROUPS_MAX, GROUPS_MAX)?,
            offset: parse_offset(params.offset.as_deref())?,
        };
        let (groups, total) = self.inner.store.list_groups(&filter).await?;
        Ok(GroupPage {
            groups: groups
                .iter()
                .map(|(group, count)| group_view(group, *count))
                .collect(),
            total,
        })
    }

    /// `GET /api/groups/{id}`.
    pub async fn get_group(&self, _admin: &Admin, id: Uuid) -> Result<Group, Error> {
        let group = self.existing_group(id).await?;
        Ok(group_view(&group, self.member_count(id).await?))
    }

    /// `POST /api/groups`.
    pub async fn create_group(
        &self,
        admin: &Admin,
        request: &CreateGroupRequest,
        client: &ClientInfo,
    ) -> Result<Group, Error> {
        let now = Utc::now();
        let group = GroupRecord {
            id: Uuid::new_v4(),
            name: crate::params::label(&request.name)?,
            description: crate::params::description(request.description.as_deref().unwrap_or(""))?,
            role: request.role.as_deref().map(parse_role).transpose()?,
            external_ids: external_ids(request.external_ids.as_deref().unwrap_or(&[]))?,
            created_at: now,
            updated_at: now,
        };
        let row = audit::record(audit::GROUP_CREATE, format!("group:{}", group.id))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "name": group.name,
                "role": group.role,
                "external_ids": group.external_ids,
            }));
        match self.inner.store.create_group(&group, &row).await? {
            GroupOutcome::Written(group) => Ok(group_view(&group, 0)),
            GroupOutcome::NameTaken => Err(name_taken()),
            GroupOutcome::NotFound => Err(Error::internal("a new group was not found")),
        }
    }

    /// `PATCH /api/groups/{id}`.
    pub async fn update_group(
        &self,
        admin: &Admin,
        id: Uuid,
        request: &UpdateGroupRequest,
        client: &ClientInfo,
    ) -> Result<Group, Error> {
        if request.name.is_none()
            && request.description.is_none()
            && request.role.is_none()
            && request.external_ids.is_none()
        {
            return Err(Error::invalid(detail::GROUP_NOTHING_TO_UPDATE));
        }
        let change = GroupChange {
            name: request
                .name
                .as_deref()
                .map(crate::params::label)
                .transpose()?,
            description: request
                .description
                .as_deref()
                .map(crate::params::description)
                .transpose()?,
            role: match &request.role {
                None => None,
                Some(None) => Some(None),
                Some(Some(raw)) => Some(Some(parse_role(raw)?)),
            },
            external_ids: request
                .external_ids
                .as_deref()
                .map(external_ids)
                .transpose()?,
        };
        let before = self.existing_group(id).await?;
        let mut changes = serde_json::Map::new();
        if let Some(name) = change.name.as_ref().filter(|n| **n != before.name) {
            changes.insert(
                "name".into(),
                serde_json::json!({ "from": before.name, "to": name }),
            );
        }
        if let Some(role) = change.role.filter(|r| *r != before.role) {
            changes.insert(
                "role".into(),
                serde_json::json!({ "from": before.role, "to": role }),
            );
        }
        if let Some(text) = change
            .description
            .as_ref()
            .filter(|d| **d != before.description)
        {
            changes.insert("description".into(), serde_json::json!(text));
        }
        if let Some(ids) = change
            .external_ids
            .as_ref()
            .filter(|i| **i != before.external_ids)
        {
            changes.insert("external_ids".into(), serde_json::json!(ids));
        }
        let row = audit::record(audit::GROUP_UPDATE, format!("group:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "name": before.name, "changes": changes }));
        match self
            .inner
            .store
            .update_group(id, Utc::now(), &change, &row)
            .await?
        {
            GroupOutcome::Written(group) => {
                // The role it grants (or its name) changed for every member at once.
                self.invalidate(&[Invalidation::Group(id)]).await;
                Ok(group_view(&group, self.member_count(id).await?))
            }
            GroupOutcome::NotFound => Err(not_found()),
            GroupOutcome::NameTaken => Err(name_taken()),
        }
    }

    /// `DELETE /api/groups/{id}`: its memberships go with it.
    pub async fn delete_group(
        &self,
        admin: &Admin,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let group = self.existing_group(id).await?;
        let row = audit::record(audit::GROUP_DELETE, format!("group:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "name": group.name, "role": group.role }));
        let members = self
            .inner
            .store
            .delete_group(id, &row)
            .await?
            .ok_or_else(not_found)?;
        let mut stale = vec![Invalidation::Group(id)];
        stale.extend(members.into_iter().map(Invalidation::User));
        self.invalidate(&stale).await;
        self.forget_grants_of_deleted_group().await?;
        Ok(())
    }

    /// `GET /api/groups/{id}/members`.
    pub async fn group_members(&self, _admin: &Admin, id: Uuid) -> Result<Vec<GroupMember>, Error> {
        self.existing_group(id).await?;
        Ok(self
            .inner
            .store
            .group_members(id)
            .await?
            .into_iter()
            .map(|m| GroupMember {
                user_id: m.user_id,
                email: m.email,
                name: m.name,
                source: m.source,
                added_at: seconds(m.added_at),
            })
            .collect())
    }

    /// `PUT /api/groups/{id}/members/{user_id}`: idempotent; a membership single sign-on made
    /// becomes an admin's (and so stays whatever the identity provider says).
    pub async fn add_member(
        &self,
        admin: &Admin,
        group_id: Uuid,
        user_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let group = self.existing_group(group_id).await?;
        let user = self.member_user(user_id).await?;
        let row = audit::record(audit::GROUP_MEMBER_ADD, format!("group:{group_id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "group": group.name,
                "user_id": user_id,
                "email": user.email,
            }));
        match self
            .inner
            .store
            .add_member(group_id, user_id, Utc::now(), &row)
            .await?
        {
            AddMemberOutcome::Added | AddMemberOutcome::MadeAdmin => {
                self.invalidate(&[Invalidation::User(user_id)]).await;
                Ok(())
            }
            AddMemberOutcome::AlreadyMember => Ok(()),
            AddMemberOutcome::GroupNotFound => Err(not_found()),
            AddMemberOutcome::UserNotFound => Err(Error::NotFound(detail::USER_NOT_FOUND.into())),
        }
    }

    /// Adds the user with this email (the web UI's "add by email").
    pub async fn add_member_by_email(
        &self,
        admin: &Admin,
        group_id: Uuid,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        self.existing_group(group_id).await?;
        let email = da_types::validation::normalize_email(email).map_err(Error::invalid)?;
        let user = self
            .inner
            .store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| Error::NotFound(detail::USER_NOT_FOUND.into()))?;
        self.add_member(admin, group_id, user.id, client).await
    }

    /// `DELETE /api/groups/{id}/members/{user_id}`.
    pub async fn remove_member(
        &self,
        admin: &Admin,
        group_id: Uuid,
        user_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let group = self.existing_group(group_id).await?;
        let email = self.inner.store.user_by_id(user_id).await?.map(|u| u.email);
        let row = audit::record(audit::GROUP_MEMBER_REMOVE, format!("group:{group_id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "group": group.name,
                "user_id": user_id,
                "email": email,
            }));
        match self
            .inner
            .store
            .remove_member(group_id, user_id, &row)
            .await?
        {
            RemoveMemberOutcome::Removed => {
                self.invalidate(&[Invalidation::User(user_id)]).await;
                Ok(())
            }
            RemoveMemberOutcome::NotMember => {
                Err(Error::NotFound(detail::MEMBERSHIP_NOT_FOUND.into()))
            }
            RemoveMemberOutcome::BySso => Err(Error::Conflict(detail::MEMBERSHIP_BY_SSO.into())),
        }
    }

    async fn member_user(&self, id: Uuid) -> Result<UserRecord, Error> {
        self.inner
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound(detail::USER_NOT_FOUND.into()))
    }

    /// `GET /api/users/{id}/groups`.
    pub async fn user_groups(
        &self,
        _admin: &Admin,
        user_id: Uuid,
    ) -> Result<Vec<UserGroup>, Error> {
        self.member_user(user_id).await?;
        self.groups_view(user_id).await
    }

    /// Your own groups (the profile page).
    pub async fn my_groups(
        &self,
        caller: &crate::principal::Principal,
    ) -> Result<Vec<UserGroup>, Error> {
        self.groups_view(caller.user_id).await
    }

    async fn groups_view(&self, user_id: Uuid) -> Result<Vec<UserGroup>, Error> {
        Ok(self
            .inner
            .store
            .groups_of_user(user_id)
            .await?
            .into_iter()
            .map(|(group, source)| UserGroup {
                id: group.id,
                name: group.name,
                role: group.role,
                source,
            })
            .collect())
    }

    /// Single sign-on's group sync (`API.md` §11): the user's `sso` memberships become exactly
    /// the groups whose `external_ids` hold one of `claim`'s values; `admin` memberships are
    /// never touched. Writes `group.sso_sync` when something changed.
    pub(crate) async fn sync_sso_groups(
        &self,
        user: &UserRecord,
        claim: &[String],
        audit_from: impl FnOnce(AuditRecord) -> AuditRecord + Send + 'static,
    ) -> Result<(), Error> {
        let wanted = self.inner.store.groups_with_external_ids(claim).await?;
        let current = self.inner.store.groups_of_user(user.id).await?;
        let add: Vec<Uuid> = wanted
            .iter()
            .filter(|g| !current.iter().any(|(c, _)| c.id == g.id))
            .map(|g| g.id)
            .collect();
        let remove: Vec<Uuid> = current
            .iter()
            .filter(|(c, source)| {
                *source == MembershipSource::Sso && !wanted.iter().any(|g| g.id == c.id)
            })
            .map(|(c, _)| c.id)
            .collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        // The names of the groups involved, for the audit row of what the sync really did.
        let known: Vec<(Uuid, String)> = wanted
            .iter()
            .chain(current.iter().map(|(g, _)| g))
            .map(|g| (g.id, g.name.clone()))
            .collect();
        let (user_id, email) = (user.id, user.email.clone());
        let audit: crate::store::SyncAudit = Box::new(move |added, removed| {
            let names = |ids: &[Uuid]| -> Vec<String> {
                ids.iter()
                    .filter_map(|id| known.iter().find(|(k, _)| k == id))
                    .map(|(_, name)| name.clone())
                    .collect()
            };
            audit_from(
                audit::record(audit::GROUP_SSO_SYNC, format!("user:{user_id}")).with_params(
                    serde_json::json!({
                        "email": email,
                        "added": names(added),
                        "removed": names(removed),
                    }),
                ),
            )
        });
        let (added, removed) = self
            .inner
            .store
            .sync_sso_memberships(user.id, &add, &remove, Utc::now(), audit)
            .await?;
        if !added.is_empty() || !removed.is_empty() {
            self.invalidate(&[Invalidation::User(user.id)]).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_cleaned_and_bounded() {
        assert_eq!(
            external_ids(&[" a ".into(), "b".into(), "a".into()]).unwrap(),
            ["a", "b"]
        );
        assert!(external_ids(&["".into()]).is_err());
        assert!(external_ids(&["x\u{1b}".into()]).is_err());
        let many: Vec<String> = (0..101).map(|n| n.to_string()).collect();
        assert!(external_ids(&many).is_err());
    }
}
