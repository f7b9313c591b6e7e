//! Groups and effective roles (`API.md` §10): the routes with their statuses and sentences, and
//! group-granted roles applying to sessions and tokens on the very next request.

use crate::users::refused;
use da_integration_tests::TestServer;
use da_types::{
    AuditParams, CreateGroupRequest, CreateTokenRequest, GroupListParams, MembershipSource, Role,
    UpdateGroupRequest, UserListParams,
};

fn group(name: &str, role: Option<&str>) -> CreateGroupRequest {
    CreateGroupRequest {
        name: name.into(),
        role: role.map(str::to_owned),
        ..Default::default()
    }
}

#[tokio::test]
async fn groups_are_created_listed_changed_and_deleted_with_the_contract_answers() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin
        .create_group(&CreateGroupRequest {
            name: " Analysts ".into(),
            description: Some("People who query".into()),
            role: Some("analyst".into()),
            external_ids: Some(vec![
                "analysts@example.com".into(),
                " analysts@example.com".into(),
            ]),
        })
        .await
        .unwrap();
    assert_eq!(created.name, "Analysts");
    assert_eq!(created.role, Some(Role::Analyst));
    assert_eq!(created.external_ids, ["analysts@example.com"]);
    assert_eq!(created.member_count, 0);
    let raw = server
        .post("/api/groups")
        .bearer_auth(server.admin_token().await)
        .json(&serde_json::json!({"name": "Raw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 201);

    for (request, expected) in [
        (
            group("analysts", None),
            (409, "Group with this name already exists"),
        ),
        (group("  ", None), (400, "name is required")),
        (
            group(&"x".repeat(101), None),
            (400, "name must be at most 100 characters"),
        ),
        (group("Bosses", Some("boss")), (400, "Unknown role: boss")),
        (
            group("Evil\u{1b}[2J", None),
            (400, "name must not contain control characters"),
        ),
    ] {
        assert_eq!(
            refused(admin.create_group(&request).await),
            (expected.0, expected.1.into()),
            "{:?}",
            request.name
        );
    }

    let (listed, total) = admin
        .list_groups(&GroupListParams {
            q: Some("ANAL".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((listed.len(), total), (1, 1));
    let (all, total) = admin
        .list_groups(&GroupListParams::default())
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(all[0].name, "Analysts", "by name");

    assert_eq!(
        refused(admin.group(uuid::Uuid::new_v4()).await),
        (404, "Group not found".into())
    );
    let malformed = server
        .get("/api/groups/not-a-uuid")
        .bearer_auth(server.admin_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 404);

    assert_eq!(
        refused(
            admin
                .update_group(created.id, &UpdateGroupRequest::default())
                .await
        ),
        (
            400,
            "At least one of name, description, role or external_ids is required".into()
        )
    );
    assert_eq!(
        refused(
            admin
                .update_group(
                    created.id,
                    &UpdateGroupRequest {
                        name: Some("RAW".into()),
                        ..Default::default()
                    }
                )
                .await
        ),
        (409, "Group with this name already exists".into())
    );
    let cleared = admin
        .update_group(
            created.id,
            &UpdateGroupRequest {
                role: Some(None),
                description: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.role, None);
    assert_eq!(cleared.description, "Renamed");
    assert_eq!(cleared.external_ids, ["analysts@example.com"], "untouched");

    admin.delete_group(created.id).await.unwrap();
    assert_eq!(
        refused(admin.group(created.id).await),
        (404, "Group not found".into())
    );
    assert_eq!(
        refused(admin.delete_group(created.id).await),
        (404, "Group not found".into())
    );
    let actions: Vec<String> = admin
        .audit(&AuditParams {
            action_prefix: Some("group.".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "group.delete",
            "group.update",
            "group.create",
            "group.create"
        ]
    );
}

#[tokio::test]
async fn memberships_are_added_idempotently_listed_and_removed() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let team = admin.create_group(&group("Team", None)).await.unwrap();
    let ann = server
        .create_user("ann@example.com", "viewer", "password-123")
        .await;
    admin.add_group_member(team.id, ann.id).await.unwrap();
    admin.add_group_member(team.id, ann.id).await.unwrap();
    let members = admin.group_members(team.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email, "ann@example.com");
    assert_eq!(members[0].source, MembershipSource::Admin);
    assert_eq!(admin.group(team.id).await.unwrap().member_count, 1);
    let groups = admin.user_groups(ann.id).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "Team");

    assert_eq!(
        refused(admin.add_group_member(uuid::Uuid::new_v4(), ann.id).await),
        (404, "Group not found".into())
    );
    assert_eq!(
        refused(admin.add_group_member(team.id, uuid::Uuid::new_v4()).await),
        (404, "User not found".into())
    );
    assert_eq!(
        refused(admin.user_groups(uuid::Uuid::new_v4()).await),
        (404, "User not found".into())
    );

    admin.remove_group_member(team.id, ann.id).await.unwrap();
    assert_eq!(
        refused(admin.remove_group_member(team.id, ann.id).await),
        (404, "Membership not found".into())
    );
    let adds = admin
        .audit(&AuditParams {
            action_prefix: Some("group.member_".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert_eq!(
        adds.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["group.member_remove", "group.member_add"],
        "adding twice is audited once"
    );

    // Deleting a user takes their memberships along.
    admin.add_group_member(team.id, ann.id).await.unwrap();
    admin.delete_user(ann.id).await.unwrap();
    assert_eq!(admin.group_members(team.id).await.unwrap().len(), 0);
}

#[tokio::test]
async fn a_group_role_applies_to_sessions_and_tokens_on_the_very_next_request() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let ann = server
        .create_user("ann@example.com", "viewer", "password-123")
        .await;
    let session = server.signed_in("ann@example.com", "password-123").await;
    // A token made before Ann joined any group, and one narrowed to analyst.
    let pat = session
        .create_token(&CreateTokenRequest {
            name: "ci".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let pat = server.client().with_token(pat.token);
    let me = pat.me().await.unwrap();
    assert_eq!((me.role, me.effective_role), (Role::Viewer, Role::Viewer));
    for client in [&session, &pat] {
        assert_eq!(
            refused(client.list_users(&UserListParams::default()).await),
            (403, "Admin access required".into())
        );
    }

    let admins = admin
        .create_group(&group("Admins", Some("admin")))
        .await
        .unwrap();
    admin.add_group_member(admins.id, ann.id).await.unwrap();
    for client in [&session, &pat] {
        client.list_users(&UserListParams::default()).await.unwrap();
        let me = client.me().await.unwrap();
        assert_eq!((me.role, me.effective_role), (Role::Viewer, Role::Admin));
        assert_eq!(me.groups.len(), 1);
        assert_eq!(me.groups[0].name, "Admins");
    }
    let listed = admin.user(ann.id).await.unwrap();
    assert_eq!(
        (listed.role, listed.effective_role),
        (Role::Viewer, Role::Admin)
    );

    // A narrowed token stays narrowed: min(token role, effective role).
    let narrowed = session
        .create_token(&CreateTokenRequest {
            name: "narrow".into(),
            role: Some("analyst".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let narrowed = server.client().with_token(narrowed.token);
    assert_eq!(narrowed.me().await.unwrap().effective_role, Role::Analyst);

    // The group's role changes: every member's next request acts with it.
    admin
        .update_group(
            admins.id,
            &UpdateGroupRequest {
                role: Some(Some("analyst".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for client in [&session, &pat] {
        assert_eq!(client.me().await.unwrap().effective_role, Role::Analyst);
        assert_eq!(
            refused(client.list_users(&UserListParams::default()).await),
            (403, "Admin access required".into())
        );
    }
    // Out of the group (or the group gone): back to the own role.
    admin
        .update_group(
            admins.id,
            &UpdateGroupRequest {
                role: Some(Some("admin".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    pat.list_users(&UserListParams::default()).await.unwrap();
    admin.remove_group_member(admins.id, ann.id).await.unwrap();
    assert_eq!(pat.me().await.unwrap().effective_role, Role::Viewer);
    admin.add_group_member(admins.id, ann.id).await.unwrap();
    assert_eq!(session.me().await.unwrap().effective_role, Role::Admin);
    admin.delete_group(admins.id).await.unwrap();
    let me = session.me().await.unwrap();
    assert_eq!(me.effective_role, Role::Viewer);
    assert!(me.groups.is_empty());
}

#[tokio::test]
async fn the_last_admin_rule_counts_own_roles_only() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let me = admin.me().await.unwrap();
    let ann = server
        .create_user("ann@example.com", "viewer", "password-123")
        .await;
    let admins = admin
        .create_group(&group("Admins", Some("admin")))
        .await
        .unwrap();
    admin.add_group_member(admins.id, ann.id).await.unwrap();
    let ann = server.signed_in("ann@example.com", "password-123").await;
    // Ann acts as an admin through the group, but is no admin of her own: demoting the only
    // own admin would leave nobody who stays admin without the group.
    let demote = da_types::UpdateUserRequest {
        role: Some("viewer".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(ann.update_user(me.id, &demote).await),
        (409, "Cannot demote the last active admin".into())
    );
    assert_eq!(
        refused(ann.deactivate_user(me.id).await),
        (409, "Cannot deactivate the last active admin".into())
    );
}

#[tokio::test]
async fn only_admins_reach_the_group_routes() {
    let server = TestServer::start().await;
    server
        .create_user("v@example.com", "km_admin", "password-123")
        .await;
    let viewer = server.signed_in("v@example.com", "password-123").await;
    assert_eq!(
        refused(viewer.list_groups(&GroupListParams::default()).await),
        (403, "Admin access required".into())
    );
    assert_eq!(
        refused(viewer.create_group(&group("x", None)).await),
        (403, "Admin access required".into())
    );
    assert_eq!(
        refused(viewer.group_members(uuid::Uuid::new_v4()).await),
        (403, "Admin access required".into())
    );
}
