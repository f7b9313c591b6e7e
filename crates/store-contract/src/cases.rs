//! The contract cases, one public async fn each (the macro makes a test of every one).

use crate::fixtures::{add_user, audited, link, now, row, session, sync_row, token, user};
use chrono::Duration;
use da_domain::store::{
    ActiveChange, ActivityStamp, AddMemberOutcome, AuditFilter, CreateGuard, CreateOutcome,
    CredentialRef, DatasetChange, DatasetRecord, DeleteOutcome, DeviceDecision, DeviceGrantRecord,
    DevicePoll, GrantOutcome, GroupChange, GroupFilter, GroupOutcome, GroupRecord, LinkKind,
    LoginCheck, LoginOutcome, RefreshOutcome, RefreshRotation, RemoveMemberOutcome, SessionSweep,
    SsoIdentity, Store, TokenFilter, UpdateOutcome, UserChange, UserFilter,
};
use da_types::{CredentialKind, MembershipSource, Role, TokenStatus};
use std::sync::Arc;
use tokio::task::JoinSet;
use uuid::Uuid;

type Db = Arc<dyn Store>;

fn written(outcome: UpdateOutcome) -> da_domain::store::UserRecord {
    match outcome {
        UpdateOutcome::Written { user, .. } => user,
        other => panic!("expected Written, got {other:?}"),
    }
}

pub async fn backend_and_schema(db: Db) {
    assert!(["duckdb", "postgres"].contains(&db.backend()));
    assert!(db.schema_version().await.unwrap() >= 1);
}

pub async fn users_are_created_found_counted_and_listed(db: Db) {
    let admin = user("root@example.com", Role::Admin);
    assert_eq!(
        db.create_user(&admin, CreateGuard::NoAdmin, None, &row("auth.bootstrap"))
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    let second = user("second@example.com", Role::Admin);
    assert_eq!(
        db.create_user(&second, CreateGuard::NoAdmin, None, &row("auth.bootstrap"))
            .await
            .unwrap(),
        CreateOutcome::AdminExists
    );
    let duplicate = user("root@example.com", Role::Viewer);
    assert_eq!(
        db.create_user(
            &duplicate,
            CreateGuard::EmailFree,
            None,
            &row("user.create")
        )
        .await
        .unwrap(),
        CreateOutcome::EmailTaken
    );
    // A user with an invite link, in the same transaction.
    let mut invited = user("ann@example.com", Role::Analyst);
    invited.password_hash = None;
    let invite = link(
        invited.id,
        LinkKind::Setup,
        "invite-hash",
        Duration::days(7),
    );
    assert_eq!(
        db.create_user(
            &invited,
            CreateGuard::EmailFree,
            Some(&invite),
            &row("user.create")
        )
        .await
        .unwrap(),
        CreateOutcome::Created
    );
    assert_eq!(
        db.link(invited.id, LinkKind::Setup).await.unwrap(),
        Some(invite)
    );
    assert_eq!(
        audited(&db, "user.create").await,
        1,
        "refusals write no audit row"
    );
    let mut viewer = user("bob@example.com", Role::Viewer);
    viewer.name = "Bob Builder".into();
    viewer.active = false;
    db.create_user(&viewer, CreateGuard::EmailFree, None, &row("user.create"))
        .await
        .unwrap();

    assert_eq!(db.user_by_id(admin.id).await.unwrap(), Some(admin.clone()));
    assert_eq!(
        db.user_by_email("ann@example.com").await.unwrap(),
        Some(invited.clone())
    );
    assert_eq!(db.user_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(db.user_by_email("nobody@example.com").await.unwrap(), None);
    assert_eq!(db.count_users().await.unwrap(), 3);
    assert_eq!(db.count_admins().await.unwrap(), 1);
    assert_eq!(db.count_active_admins().await.unwrap(), 1);

    let list = |filter: UserFilter| {
        let db = db.clone();
        async move {
            let (users, total) = db.list_users(&filter).await.unwrap();
            (
                users.into_iter().map(|u| u.email).collect::<Vec<_>>(),
                total,
            )
        }
    };
    let all = UserFilter {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        list(all.clone()).await,
        (
            vec![
                "ann@example.com".into(),
                "bob@example.com".into(),
                "root@example.com".into()
            ],
            3
        ),
        "ordered by email"
    );
    let page = UserFilter {
        limit: 1,
        offset: 1,
        ..all.clone()
    };
    assert_eq!(list(page).await, (vec!["bob@example.com".into()], 3));
    let past_the_end = UserFilter {
        offset: da_types::paging::OFFSET_MAX,
        ..all.clone()
    };
    assert_eq!(list(past_the_end).await, (vec![], 3));
    let search = UserFilter {
        search: Some("BUILD".into()),
        ..all.clone()
    };
    assert_eq!(list(search).await, (vec!["bob@example.com".into()], 1));
    let by_email = UserFilter {
        email: Some("ann@example.com".into()),
        ..all.clone()
    };
    assert_eq!(list(by_email).await.1, 1);
    let by_role = UserFilter {
        role: Some(Role::Admin),
        ..all.clone()
    };
    assert_eq!(list(by_role).await, (vec!["root@example.com".into()], 1));
    let inactive = UserFilter {
        active: Some(false),
        ..all.clone()
    };
    assert_eq!(list(inactive).await, (vec!["bob@example.com".into()], 1));
    let invited_only = UserFilter {
        has_password: Some(false),
        ..all.clone()
    };
    assert_eq!(
        list(invited_only).await,
        (vec!["ann@example.com".into()], 1)
    );
    let count_only = UserFilter { limit: 0, ..all };
    assert_eq!(list(count_only).await, (vec![], 3));
}

pub async fn a_user_change_writes_only_its_columns(db: Db) {
    let admin = add_user(&db, "root@example.com", Role::Admin).await;
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let at = now();

    let renamed = written(
        db.update_user(
            ann.id,
            at,
            &UserChange {
                name: Some("Ann B".into()),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(renamed.name, "Ann B");
    assert_eq!(renamed.role, Role::Analyst);
    assert_eq!(
        renamed.password_hash, ann.password_hash,
        "the hash is untouched"
    );
    assert_eq!(renamed.updated_at, at);
    assert_eq!(db.user_by_id(ann.id).await.unwrap(), Some(renamed.clone()));

    let hashed = written(
        db.update_user(
            ann.id,
            at,
            &UserChange {
                password_hash: Some("$argon2id$new".into()),
                ..Default::default()
            },
            &row("user.set_password"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(hashed.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(hashed.name, "Ann B", "the name is untouched");

    let demoted = written(
        db.update_user(
            ann.id,
            at,
            &UserChange {
                role: Some(Role::Viewer),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(demoted.role, Role::Viewer);
    assert_eq!(demoted.password_hash.as_deref(), Some("$argon2id$new"));

    let deactivated = written(
        db.update_user(
            ann.id,
            at,
            &UserChange {
                active: Some(ActiveChange::Deactivate { by: admin.id }),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert!(!deactivated.active);
    assert_eq!(deactivated.deactivated_at, Some(at));
    assert_eq!(deactivated.deactivated_by, Some(admin.id));
    let activated = written(
        db.update_user(
            ann.id,
            at,
            &UserChange {
                active: Some(ActiveChange::Activate),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert!(activated.active);
    assert_eq!(activated.deactivated_at, None);
    assert_eq!(activated.deactivated_by, None);
    assert_eq!(audited(&db, "user.update").await, 4);

    // Sessions are swept with the change, but the one spared.
    let kept = session(ann.id, Duration::hours(1));
    let swept = session(ann.id, Duration::hours(1));
    for s in [&kept, &swept] {
        db.record_login(
            s,
            None,
            &LoginCheck {
                approved_in: None,
                password_hash: None,
                ..Default::default()
            },
            &row("auth.login"),
        )
        .await
        .unwrap();
    }
    let outcome = db
        .update_user(
            ann.id,
            now(),
            &UserChange {
                password_hash: Some("$argon2id$third".into()),
                revoke_sessions: Some(SessionSweep {
                    at: now(),
                    except: Some(kept.id),
                }),
                ..Default::default()
            },
            &row("user.password_changed"),
        )
        .await
        .unwrap();
    match outcome {
        UpdateOutcome::Written {
            revoked_sessions, ..
        } => assert_eq!(revoked_sessions, vec![swept.id]),
        other => panic!("{other:?}"),
    }
    let live: Vec<Uuid> = db
        .live_sessions(ann.id, now())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![kept.id]);
}

pub async fn user_change_guards_refuse_and_roll_back(db: Db) {
    let admin = add_user(&db, "root@example.com", Role::Admin).await;
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let before = audited(&db, "user.update").await;

    assert_eq!(
        db.update_user(
            Uuid::new_v4(),
            now(),
            &UserChange {
                name: Some("x".into()),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
        UpdateOutcome::NotFound
    );
    // The last active admin may not demote or deactivate themselves away.
    for change in [
        UserChange {
            role: Some(Role::Viewer),
            keep_an_admin: true,
            ..Default::default()
        },
        UserChange {
            active: Some(ActiveChange::Deactivate { by: ann.id }),
            keep_an_admin: true,
            ..Default::default()
        },
    ] {
        assert_eq!(
            db.update_user(admin.id, now(), &change, &row("user.update"))
                .await
                .unwrap(),
            UpdateOutcome::LastAdmin
        );
    }
    assert_eq!(db.user_by_id(admin.id).await.unwrap(), Some(admin.clone()));

    // Links: wrong hash, expired, then right.
    let reset = link(ann.id, LinkKind::Reset, "right", Duration::hours(1));
    db.put_link(&reset, None, &row("user.reset_password"))
        .await
        .unwrap();
    let redeem = |hash: &str| UserChange {
        password_hash: Some("$argon2id$from-link".into()),
        consume_link: Some((LinkKind::Reset, hash.to_owned())),
        ..Default::default()
    };
    assert_eq!(
        db.update_user(ann.id, now(), &redeem("wrong"), &row("user.update"))
            .await
            .unwrap(),
        UpdateOutcome::LinkGone
    );
    assert_eq!(
        db.update_user(
            ann.id,
            now() + Duration::hours(2),
            &redeem("right"),
            &row("user.update")
        )
        .await
        .unwrap(),
        UpdateOutcome::LinkGone,
        "expired at the change's time"
    );
    assert!(db.link(ann.id, LinkKind::Reset).await.unwrap().is_some());
    written(
        db.update_user(ann.id, now(), &redeem("right"), &row("user.update"))
            .await
            .unwrap(),
    );
    assert_eq!(db.link(ann.id, LinkKind::Reset).await.unwrap(), None);
    assert_eq!(
        db.update_user(ann.id, now(), &redeem("right"), &row("user.update"))
            .await
            .unwrap(),
        UpdateOutcome::LinkGone,
        "a link is spent once"
    );

    // `require_active` refuses an inactive user.
    written(
        db.update_user(
            ann.id,
            now(),
            &UserChange {
                active: Some(ActiveChange::Deactivate { by: admin.id }),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        db.update_user(
            ann.id,
            now(),
            &UserChange {
                password_hash: Some("$argon2id$late".into()),
                require_active: true,
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
        UpdateOutcome::Inactive
    );
    assert_eq!(
        db.user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$from-link")
    );
    assert_eq!(
        audited(&db, "user.update").await,
        before + 2,
        "only the link redemption and the deactivation were written"
    );
}

pub async fn deleting_a_user_takes_their_credentials_and_keeps_the_audit(db: Db) {
    let admin = add_user(&db, "root@example.com", Role::Admin).await;
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let live = session(ann.id, Duration::hours(1));
    db.record_login(
        &live,
        None,
        &LoginCheck {
            approved_in: None,
            password_hash: None,
            ..Default::default()
        },
        &row("auth.login"),
    )
    .await
    .unwrap();
    let pat = token(ann.id, &da_domain::pat::generate().unwrap());
    db.create_token(&pat, &row("token.create")).await.unwrap();
    db.put_link(
        &link(ann.id, LinkKind::Reset, "h", Duration::hours(1)),
        None,
        &row("user.reset_password"),
    )
    .await
    .unwrap();

    assert_eq!(
        db.delete_user(admin.id, now(), &row("user.delete"))
            .await
            .unwrap(),
        DeleteOutcome::LastAdmin
    );
    assert!(db.user_by_id(admin.id).await.unwrap().is_some());
    assert_eq!(
        db.delete_user(Uuid::new_v4(), now(), &row("user.delete"))
            .await
            .unwrap(),
        DeleteOutcome::NotFound
    );
    assert_eq!(
        db.delete_user(ann.id, now(), &row("user.delete"))
            .await
            .unwrap(),
        DeleteOutcome::Deleted {
            revoked_sessions: vec![live.id],
            revoked_tokens: vec![pat.id],
        }
    );
    assert_eq!(db.user_by_id(ann.id).await.unwrap(), None);
    assert!(
        db.session_by_id(live.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        db.token_by_id(pat.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(db.link(ann.id, LinkKind::Reset).await.unwrap(), None);
    assert_eq!(audited(&db, "user.delete").await, 1);
    assert_eq!(
        audited(&db, "token.create").await,
        1,
        "the audit log keeps their rows"
    );
}

pub async fn links_are_replaced_and_a_cooldown_keeps_the_pending_one(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    assert_eq!(db.link(ann.id, LinkKind::Reset).await.unwrap(), None);
    let first = link(ann.id, LinkKind::Reset, "first", Duration::hours(24));
    assert!(
        db.put_link(&first, None, &row("user.reset_password"))
            .await
            .unwrap()
    );
    let second = link(ann.id, LinkKind::Reset, "second", Duration::hours(24));
    assert!(
        db.put_link(&second, None, &row("user.reset_password"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.link(ann.id, LinkKind::Reset).await.unwrap(),
        Some(second.clone())
    );
    // Within the cooldown nothing is written.
    let third = link(ann.id, LinkKind::Reset, "third", Duration::hours(24));
    let since = now() - Duration::minutes(5);
    assert!(
        !db.put_link(&third, Some(since), &row("user.reset_password"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.link(ann.id, LinkKind::Reset).await.unwrap(),
        Some(second)
    );
    assert_eq!(audited(&db, "user.reset_password").await, 2);
    // Another kind is independent.
    let invite = link(ann.id, LinkKind::Setup, "invite", Duration::days(7));
    assert!(
        db.put_link(&invite, Some(since), &row("user.create"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.link(ann.id, LinkKind::Setup).await.unwrap(),
        Some(invite)
    );
}

pub async fn a_login_is_recorded_only_while_its_checks_hold(db: Db) {
    let admin = add_user(&db, "root@example.com", Role::Admin).await;
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let verified = LoginCheck {
        approved_in: None,
        password_hash: ann.password_hash.clone(),
        ..Default::default()
    };
    let first = session(ann.id, Duration::hours(1));
    assert_eq!(
        db.record_login(&first, None, &verified, &row("auth.login"))
            .await
            .unwrap(),
        LoginOutcome::Recorded
    );
    assert_eq!(
        db.session_by_id(first.id).await.unwrap(),
        Some(first.clone())
    );
    let stamped = db.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(stamped.last_login_at, Some(first.created_at));
    assert!(!stamped.sso, "a password login leaves `sso` alone");
    // A single sign-on login marks the user `sso`, and needs no password.
    let by_sso = session(ann.id, Duration::hours(1));
    assert_eq!(
        db.record_login(&by_sso, None, &sso_as("sub-ann"), &row("auth.login"))
            .await
            .unwrap(),
        LoginOutcome::Recorded
    );
    let marked = db.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(
        (marked.sso, marked.last_login_at),
        (true, Some(by_sso.created_at))
    );
    assert_eq!(
        db.sso_identity_of(ann.id).await.unwrap(),
        sso_as("sub-ann").sso,
        "linked to the identity it signed in as"
    );
    // The same email at the same provider under another subject is someone else.
    let intruder = session(ann.id, Duration::hours(1));
    assert_eq!(
        db.record_login(&intruder, None, &sso_as("sub-eve"), &row("auth.login"))
            .await
            .unwrap(),
        LoginOutcome::OtherIdentity
    );
    assert_eq!(db.session_by_id(intruder.id).await.unwrap(), None);
    // Another provider (an admin moved the server to a new one) links afresh.
    let mut moved = sso_as("sub-ann-2");
    if let Some(identity) = moved.sso.as_mut() {
        identity.issuer = "https://new-idp.example".into();
    }
    assert_eq!(
        db.record_login(
            &session(ann.id, Duration::hours(1)),
            None,
            &moved,
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::Recorded
    );
    assert_eq!(db.sso_identity_of(ann.id).await.unwrap(), moved.sso);
    assert_eq!(db.sso_identity_of(Uuid::new_v4()).await.unwrap(), None);
    db.record_login(
        &session(ann.id, Duration::hours(1)),
        None,
        &verified,
        &row("auth.login"),
    )
    .await
    .unwrap();
    assert!(
        db.user_by_id(ann.id).await.unwrap().unwrap().sso,
        "and a later password login keeps it"
    );
    // The password changed while Argon2 ran.
    written(
        db.update_user(
            ann.id,
            now(),
            &UserChange {
                password_hash: Some("$argon2id$changed".into()),
                ..Default::default()
            },
            &row("user.password_changed"),
        )
        .await
        .unwrap(),
    );
    let late = session(ann.id, Duration::hours(1));
    assert_eq!(
        db.record_login(&late, None, &verified, &row("auth.login"))
            .await
            .unwrap(),
        LoginOutcome::PasswordChanged
    );
    assert_eq!(
        db.session_by_id(late.id).await.unwrap(),
        None,
        "nothing written"
    );
    written(
        db.update_user(
            ann.id,
            now(),
            &UserChange {
                active: Some(ActiveChange::Deactivate { by: admin.id }),
                ..Default::default()
            },
            &row("user.update"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        db.record_login(
            &session(ann.id, Duration::hours(1)),
            None,
            &LoginCheck {
                approved_in: None,
                password_hash: None,
                ..Default::default()
            },
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::Deactivated
    );
    assert_eq!(
        db.record_login(
            &session(Uuid::new_v4(), Duration::hours(1)),
            None,
            &LoginCheck {
                approved_in: None,
                password_hash: None,
                ..Default::default()
            },
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::UserGone
    );
    assert_eq!(audited(&db, "auth.login").await, 4, "refusals write no row");
}

/// A single sign-on login as `subject` at the test provider.
fn sso_as(subject: &str) -> LoginCheck {
    LoginCheck {
        approved_in: None,
        password_hash: None,
        sso: Some(SsoIdentity {
            issuer: "https://idp.example".into(),
            subject: subject.into(),
        }),
    }
}

pub async fn sessions_are_found_listed_revoked_and_touched(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let none = LoginCheck {
        approved_in: None,
        password_hash: None,
        ..Default::default()
    };
    let older = session(ann.id, Duration::hours(1));
    db.record_login(&older, None, &none, &row("auth.login"))
        .await
        .unwrap();
    let mut newer = session(ann.id, Duration::hours(1));
    newer.created_at = older.created_at + Duration::seconds(1);
    db.record_login(&newer, None, &none, &row("auth.login"))
        .await
        .unwrap();
    let expired = session(ann.id, Duration::seconds(-1));
    db.record_login(&expired, None, &none, &row("auth.login"))
        .await
        .unwrap();

    let live: Vec<Uuid> = db
        .live_sessions(ann.id, now())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        live,
        vec![newer.id, older.id],
        "newest first, expired left out"
    );

    // Revoking is answered the same twice, but audited once.
    assert!(
        db.revoke_session(older.id, now(), &row("auth.logout"))
            .await
            .unwrap()
    );
    assert!(
        db.revoke_session(older.id, now(), &row("auth.logout"))
            .await
            .unwrap()
    );
    assert!(
        !db.revoke_session(Uuid::new_v4(), now(), &row("auth.logout"))
            .await
            .unwrap()
    );
    assert_eq!(audited(&db, "auth.logout").await, 1);
    assert!(
        db.session_by_id(older.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    let another = session(ann.id, Duration::hours(1));
    db.record_login(&another, None, &none, &row("auth.login"))
        .await
        .unwrap();
    let revoked = db
        .revoke_user_sessions(
            ann.id,
            SessionSweep {
                at: now(),
                except: Some(another.id),
            },
            &row("session.revoke"),
        )
        .await
        .unwrap();
    assert_eq!(revoked, vec![newer.id]);
    assert_eq!(audited(&db, "session.revoke").await, 1);

    // Activity moves forward only; unknown ids are ignored.
    let later = another.last_active_at + Duration::seconds(30);
    db.touch_sessions(&[
        ActivityStamp {
            id: another.id,
            at: later,
            ip: None,
        },
        ActivityStamp {
            id: Uuid::new_v4(),
            at: later,
            ip: None,
        },
    ])
    .await
    .unwrap();
    db.touch_sessions(&[ActivityStamp {
        id: another.id,
        at: later - Duration::seconds(20),
        ip: None,
    }])
    .await
    .unwrap();
    assert_eq!(
        db.session_by_id(another.id)
            .await
            .unwrap()
            .unwrap()
            .last_active_at,
        later
    );
}

pub async fn tokens_are_found_listed_revoked_and_touched(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let bob = add_user(&db, "bob@example.com", Role::Viewer).await;
    let secret = da_domain::pat::generate().unwrap();
    let mut first = token(ann.id, &secret);
    first.role = Some(Role::Viewer);
    db.create_token(&first, &row("token.create")).await.unwrap();
    let mut second = token(ann.id, &da_domain::pat::generate().unwrap());
    second.created_at = first.created_at + Duration::seconds(1);
    second.expires_at = Some(now() - Duration::seconds(1));
    db.create_token(&second, &row("token.create"))
        .await
        .unwrap();
    let mut bobs = token(bob.id, &da_domain::pat::generate().unwrap());
    bobs.created_at = first.created_at + Duration::seconds(2);
    db.create_token(&bobs, &row("token.create")).await.unwrap();

    assert_eq!(
        db.token_by_hash(&da_domain::pat::hash(&secret))
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(db.token_by_hash("unknown").await.unwrap(), None);
    assert_eq!(db.token_by_id(first.id).await.unwrap(), Some(first.clone()));
    let mine: Vec<Uuid> = db
        .tokens_of_user(ann.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(mine, vec![second.id, first.id], "newest first");

    assert!(
        db.revoke_token(bobs.id, now(), &row("token.revoke"))
            .await
            .unwrap()
    );
    assert!(
        db.revoke_token(bobs.id, now(), &row("token.revoke"))
            .await
            .unwrap()
    );
    assert!(
        !db.revoke_token(Uuid::new_v4(), now(), &row("token.revoke"))
            .await
            .unwrap()
    );
    assert_eq!(audited(&db, "token.revoke").await, 1);

    let list = |user_id, status| {
        let db = db.clone();
        async move {
            let filter = TokenFilter {
                user_id,
                owner_contains: None,
                status,
                now: now(),
                limit: 100,
                offset: 0,
            };
            let (tokens, total) = db.list_tokens(&filter).await.unwrap();
            (
                tokens
                    .into_iter()
                    .map(|(t, email)| (t.id, email))
                    .collect::<Vec<_>>(),
                total,
            )
        }
    };
    let (all, total) = list(None, None).await;
    assert_eq!(total, 3);
    assert_eq!(all[0], (bobs.id, Some("bob@example.com".into())));
    assert_eq!(
        list(None, Some(TokenStatus::Active)).await.0,
        vec![(first.id, Some("ann@example.com".into()))]
    );
    assert_eq!(
        list(None, Some(TokenStatus::Expired)).await.0,
        vec![(second.id, Some("ann@example.com".into()))]
    );
    assert_eq!(list(None, Some(TokenStatus::Revoked)).await.1, 1);
    assert_eq!(list(Some(ann.id), None).await.1, 2);
    let by_owner = TokenFilter {
        user_id: None,
        owner_contains: Some("bob@".into()),
        status: None,
        now: now(),
        limit: 100,
        offset: 0,
    };
    let (tokens, total) = db.list_tokens(&by_owner).await.unwrap();
    assert_eq!((tokens.len(), total), (1, 1));
    assert_eq!(tokens[0].0.id, bobs.id);
    let page = TokenFilter {
        user_id: None,
        owner_contains: None,
        status: None,
        now: now(),
        limit: 1,
        offset: 1,
    };
    let (tokens, total) = db.list_tokens(&page).await.unwrap();
    assert_eq!((tokens.len(), total), (1, 3));

    // Last use: newest wins, an older stamp never overwrites it.
    let at = now();
    db.touch_tokens(&[ActivityStamp {
        id: first.id,
        at,
        ip: Some("192.0.2.7".into()),
    }])
    .await
    .unwrap();
    db.touch_tokens(&[ActivityStamp {
        id: first.id,
        at: at - Duration::seconds(10),
        ip: Some("192.0.2.99".into()),
    }])
    .await
    .unwrap();
    let used = db.token_by_id(first.id).await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(at));
    assert_eq!(used.last_used_ip.as_deref(), Some("192.0.2.7"));
}

pub async fn the_audit_log_filters_and_pages(db: Db) {
    let actor = Uuid::new_v4();
    let credential = CredentialRef {
        kind: CredentialKind::Pat,
        id: Uuid::new_v4(),
    };
    let base = now();
    for n in 0..5 {
        let mut audit = row(if n % 2 == 0 {
            "token.create"
        } else {
            "user.update"
        });
        audit.at = base + Duration::seconds(n);
        audit.resource = Some(format!("thing:{n}"));
        audit.params = serde_json::json!({ "n": n });
        audit.ip = Some("192.0.2.1".into());
        if n == 4 {
            audit.actor_id = Some(actor);
            audit.actor_email = Some("ann@example.com".into());
            audit.credential = Some(credential);
        }
        db.insert_audit(&audit).await.unwrap();
    }
    let query = |filter: AuditFilter| {
        let db = db.clone();
        async move { db.list_audit(&filter).await.unwrap() }
    };
    let all = query(AuditFilter {
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].params, serde_json::json!({ "n": 4 }), "newest first");
    assert_eq!(all[0].credential, Some(credential));
    assert_eq!(all[0].actor_email.as_deref(), Some("ann@example.com"));
    assert_eq!(all[1].credential, None);
    let prefixed = query(AuditFilter {
        action_prefix: Some("token.".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(prefixed.len(), 3);
    let by_actor = query(AuditFilter {
        actor_id: Some(actor),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(by_actor.len(), 1);
    let by_actor_email = query(AuditFilter {
        actor_contains: Some("ann@".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(by_actor_email.len(), 1);
    let counted = AuditFilter {
        action_prefix: Some("token.".into()),
        since: Some(base + Duration::seconds(1)),
        // Counting ignores paging.
        limit: 1,
        before: Some((base, Uuid::nil())),
        ..Default::default()
    };
    assert_eq!(db.count_audit(&counted).await.unwrap(), 2);
    let by_resource = query(AuditFilter {
        resource: Some("thing:2".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(by_resource.len(), 1);
    let window = query(AuditFilter {
        since: Some(base + Duration::seconds(1)),
        until: Some(base + Duration::seconds(3)),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(window.len(), 2, "since inclusive, until exclusive");
    // Cursor paging: the page after the first two.
    let first_page = query(AuditFilter {
        limit: 2,
        ..Default::default()
    })
    .await;
    let last = first_page.last().unwrap();
    let next = query(AuditFilter {
        before: Some((last.at, last.id)),
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(next.len(), 2);
    assert_eq!(next[0].params, serde_json::json!({ "n": 2 }));
}

pub async fn concurrent_column_writes_keep_each_other(db: Db) {
    add_user(&db, "root@example.com", Role::Admin).await;
    let ann = add_user(&db, "ann@example.com", Role::KmAdmin).await;
    let mut work = JoinSet::new();
    for n in 0..20 {
        let db = db.clone();
        work.spawn(async move {
            let change = if n % 2 == 0 {
                UserChange {
                    password_hash: Some(format!("$argon2id${n}")),
                    ..Default::default()
                }
            } else {
                UserChange {
                    role: Some(Role::Viewer),
                    ..Default::default()
                }
            };
            written(
                db.update_user(ann.id, now(), &change, &row("user.update"))
                    .await
                    .unwrap(),
            );
        });
    }
    work.join_all().await;
    let after = db.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(
        after.role,
        Role::Viewer,
        "no password write brought the old role back"
    );
    assert_ne!(
        after.password_hash, ann.password_hash,
        "no role write brought the old hash back"
    );
}

pub async fn two_admins_deactivating_each_other_leave_one(db: Db) {
    for round in 0..10 {
        let a = add_user(&db, &format!("a{round}@example.com"), Role::Admin).await;
        let b = add_user(&db, &format!("b{round}@example.com"), Role::Admin).await;
        // Only these two are active admins.
        let admins = db
            .list_users(&UserFilter {
                role: Some(Role::Admin),
                active: Some(true),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .0;
        for other in admins.iter().filter(|u| u.id != a.id && u.id != b.id) {
            written(
                db.update_user(
                    other.id,
                    now(),
                    &UserChange {
                        active: Some(ActiveChange::Deactivate { by: a.id }),
                        ..Default::default()
                    },
                    &row("user.update"),
                )
                .await
                .unwrap(),
            );
        }
        let deactivate = |victim: Uuid, by: Uuid| {
            let db = db.clone();
            tokio::spawn(async move {
                db.update_user(
                    victim,
                    now(),
                    &UserChange {
                        active: Some(ActiveChange::Deactivate { by }),
                        keep_an_admin: true,
                        ..Default::default()
                    },
                    &row("user.update"),
                )
                .await
                .unwrap()
            })
        };
        let (x, y) = tokio::join!(deactivate(a.id, b.id), deactivate(b.id, a.id));
        let outcomes = [x.unwrap(), y.unwrap()];
        let wins = outcomes
            .iter()
            .filter(|o| matches!(o, UpdateOutcome::Written { .. }))
            .count();
        let refusals = outcomes
            .iter()
            .filter(|o| **o == UpdateOutcome::LastAdmin)
            .count();
        assert_eq!((wins, refusals), (1, 1), "round {round}: {outcomes:?}");
        assert_eq!(db.count_active_admins().await.unwrap(), 1, "round {round}");
    }
}

pub async fn a_link_is_redeemed_exactly_once_under_concurrency(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    for round in 0..10 {
        let hash = format!("secret-{round}");
        db.put_link(
            &link(ann.id, LinkKind::Reset, &hash, Duration::hours(1)),
            None,
            &row("user.reset_password"),
        )
        .await
        .unwrap();
        let mut work = JoinSet::new();
        for n in 0..8 {
            let (db, hash) = (db.clone(), hash.clone());
            work.spawn(async move {
                let change = UserChange {
                    password_hash: Some(format!("$argon2id${round}-{n}")),
                    consume_link: Some((LinkKind::Reset, hash)),
                    ..Default::default()
                };
                db.update_user(ann.id, now(), &change, &row("user.password_changed"))
                    .await
                    .unwrap()
            });
        }
        let outcomes = work.join_all().await;
        let wins = outcomes
            .iter()
            .filter(|o| matches!(o, UpdateOutcome::Written { .. }))
            .count();
        assert_eq!(wins, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, UpdateOutcome::Written { .. } | UpdateOutcome::LinkGone))
        );
    }
}

pub async fn bootstrap_racing_bootstrap_creates_one_admin(db: Db) {
    let mut work = JoinSet::new();
    for n in 0..8 {
        let db = db.clone();
        work.spawn(async move {
            let admin = user(&format!("first{n}@example.com"), Role::Admin);
            db.create_user(&admin, CreateGuard::NoAdmin, None, &row("auth.bootstrap"))
                .await
                .unwrap()
        });
    }
    let outcomes = work.join_all().await;
    let created = outcomes
        .iter()
        .filter(|o| **o == CreateOutcome::Created)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert_eq!(db.count_admins().await.unwrap(), 1);
    assert_eq!(audited(&db, "auth.bootstrap").await, 1);
}

pub async fn concurrent_flushes_of_one_token_all_succeed(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let pat = token(ann.id, &da_domain::pat::generate().unwrap());
    db.create_token(&pat, &row("token.create")).await.unwrap();
    let live = session(ann.id, Duration::hours(1));
    db.record_login(
        &live,
        None,
        &LoginCheck {
            approved_in: None,
            password_hash: None,
            ..Default::default()
        },
        &row("auth.login"),
    )
    .await
    .unwrap();
    let base = now();
    let mut work = JoinSet::new();
    for n in 0..32 {
        let db = db.clone();
        work.spawn(async move {
            let stamp = |id| ActivityStamp {
                id,
                at: base + Duration::seconds(n),
                ip: Some(format!("192.0.2.{n}")),
            };
            db.touch_tokens(&[stamp(pat.id)]).await.unwrap();
            db.touch_sessions(&[stamp(live.id)]).await.unwrap();
        });
    }
    work.join_all().await;
    let used = db.token_by_id(pat.id).await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(base + Duration::seconds(31)));
    assert_eq!(used.last_used_ip.as_deref(), Some("192.0.2.31"));
    assert_eq!(
        db.session_by_id(live.id)
            .await
            .unwrap()
            .unwrap()
            .last_active_at,
        base + Duration::seconds(31)
    );
}

fn services(db: &Db) -> da_domain::Services {
    da_domain::Services::new(
        db.clone(),
        da_domain::ServicesConfig {
            jwt_secret: vec![7; 32],
            session_hours: 1,
            cli_access_seconds: 900,
            cli_refresh_days: 30,
            leak_report_secret: None,
            bootstrap_token: None,
            hash_concurrency: 1,
            public_url: None,
            rate_limits: da_domain::RateLimitConfig::default(),
            pat_max_days: None,
            cli_dist_dir: None,
        },
        None,
        None,
        None,
    )
}

/// The caller behind a fresh token of `user`, as the auth path resolves it.
async fn caller(db: &Db, services: &da_domain::Services, user: Uuid) -> da_domain::Principal {
    let secret = da_domain::pat::generate().unwrap();
    db.create_token(&token(user, &secret), &row("token.create"))
        .await
        .unwrap();
    services.authenticate(&secret, None).await.unwrap()
}

const RACE_ROUNDS: usize = 60;

/// Uses `secret` from several tasks at once — on a cache that has not seen it, each a fill
/// racing `change` — then returns what the next use gets.
async fn race_cold_fills(
    services: &da_domain::Services,
    secret: &str,
    change: impl std::future::Future<Output = ()>,
) -> Result<da_domain::Principal, da_domain::Error> {
    let mut work = JoinSet::new();
    for _ in 0..6 {
        let (services, secret) = (services.clone(), secret.to_owned());
        work.spawn(async move {
            let _ = services.authenticate(&secret, None).await;
        });
    }
    change.await;
    work.join_all().await;
    services.authenticate(secret, None).await
}

pub async fn a_revocation_racing_a_cold_cache_fill_holds(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let services = services(&db);
    let ann_herself = caller(&db, &services, ann.id).await;
    let client = da_domain::ClientInfo::default();
    for round in 0..RACE_ROUNDS {
        // A token no cache has seen.
        let secret = da_domain::pat::generate().unwrap();
        let pat = token(ann.id, &secret);
        db.create_token(&pat, &row("token.create")).await.unwrap();
        let revoke = async {
            services
                .revoke_my_token(&ann_herself, pat.id, &client)
                .await
                .unwrap()
        };
        let after = race_cold_fills(&services, &secret, revoke).await;
        assert!(
            matches!(
                after,
                Err(da_domain::Error::Unauthenticated(
                    da_types::detail::AuthFailure::TokenRevoked
                ))
            ),
            "round {round}: a revoked token still authenticates: {after:?}"
        );
    }
}

pub async fn a_deactivation_racing_a_cold_cache_fill_holds(db: Db) {
    let root = add_user(&db, "root@example.com", Role::Admin).await;
    let services = services(&db);
    let admin = da_domain::require_admin(&caller(&db, &services, root.id).await).unwrap();
    let client = da_domain::ClientInfo::default();
    for round in 0..RACE_ROUNDS {
        let member = add_user(&db, &format!("member{round}@example.com"), Role::Analyst).await;
        let secret = da_domain::pat::generate().unwrap();
        db.create_token(&token(member.id, &secret), &row("token.create"))
            .await
            .unwrap();
        let deactivate = async {
            services
                .set_user_active(&admin, member.id, false, &client)
                .await
                .unwrap();
        };
        let after = race_cold_fills(&services, &secret, deactivate).await;
        assert!(
            matches!(
                after,
                Err(da_domain::Error::Unauthenticated(
                    da_types::detail::AuthFailure::AccountDeactivated
                ))
            ),
            "round {round}: a deactivated user's token still authenticates: {after:?}"
        );
    }
}

fn group(name: &str, role: Option<Role>, external_ids: &[&str]) -> GroupRecord {
    let at = now();
    GroupRecord {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        description: format!("about {name}"),
        role,
        external_ids: external_ids.iter().map(|s| (*s).to_owned()).collect(),
        created_at: at,
        updated_at: at,
    }
}

async fn add_group(db: &Db, name: &str, role: Option<Role>, external_ids: &[&str]) -> GroupRecord {
    let record = group(name, role, external_ids);
    assert_eq!(
        db.create_group(&record, &row("group.create"))
            .await
            .unwrap(),
        GroupOutcome::Written(record.clone())
    );
    record
}

pub async fn groups_are_created_found_listed_changed_and_deleted(db: Db) {
    let analysts = add_group(&db, "Analysts", Some(Role::Analyst), &["g-analysts"]).await;
    let admins = add_group(&db, "Admins", Some(Role::Admin), &["g-admins", "g-root"]).await;
    let plain = add_group(&db, "Book Club", None, &[]).await;
    assert_eq!(
        db.create_group(&group("ANALYSTS", None, &[]), &row("group.create"))
            .await
            .unwrap(),
        GroupOutcome::NameTaken,
        "names are unique case-insensitively"
    );
    assert_eq!(
        audited(&db, "group.create").await,
        3,
        "refusals write no row"
    );

    assert_eq!(
        db.group_by_id(analysts.id).await.unwrap(),
        Some(analysts.clone())
    );
    assert_eq!(db.group_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(
        db.group_by_name("book club").await.unwrap(),
        Some(plain.clone())
    );
    assert_eq!(db.group_by_name("Book").await.unwrap(), None);

    let list = |search: Option<&str>, limit: u32, offset: u64| {
        let db = db.clone();
        let filter = GroupFilter {
            search: search.map(str::to_owned),
            limit,
            offset,
        };
        async move {
            let (groups, total) = db.list_groups(&filter).await.unwrap();
            (
                groups
                    .into_iter()
                    .map(|(g, count)| (g.name, count))
                    .collect::<Vec<_>>(),
                total,
            )
        }
    };
    let user = add_user(&db, "ann@example.com", Role::Viewer).await;
    db.add_member(analysts.id, user.id, now(), &row("group.member_add"))
        .await
        .unwrap();
    assert_eq!(
        list(None, 100, 0).await,
        (
            vec![
                ("Admins".into(), 0),
                ("Analysts".into(), 1),
                ("Book Club".into(), 0)
            ],
            3
        ),
        "by name, with member counts"
    );
    assert_eq!(list(Some("ADMIN"), 100, 0).await.1, 1);
    assert_eq!(
        list(Some("about book"), 100, 0).await.0,
        [("Book Club".into(), 0)],
        "the description is searched too"
    );
    assert_eq!(
        list(None, 1, 1).await,
        (vec![("Analysts".into(), 1)], 3),
        "paged, with the total of all matches"
    );

    let mut values = db
        .groups_with_external_ids(&["g-root".into(), "g-analysts".into(), "unknown".into()])
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect::<Vec<_>>();
    values.sort();
    assert_eq!(values, ["Admins", "Analysts"]);
    assert!(db.groups_with_external_ids(&[]).await.unwrap().is_empty());
    assert!(
        db.groups_with_external_ids(&["G-ROOT".into()])
            .await
            .unwrap()
            .is_empty(),
        "external ids match exactly"
    );

    // A change writes only its columns.
    let later = analysts.updated_at + Duration::seconds(5);
    let changed = db
        .update_group(
            analysts.id,
            later,
            &GroupChange {
                role: Some(None),
                ..Default::default()
            },
            &row("group.update"),
        )
        .await
        .unwrap();
    let expected = GroupRecord {
        role: None,
        updated_at: later,
        ..analysts.clone()
    };
    assert_eq!(changed, GroupOutcome::Written(expected.clone()));
    assert_eq!(db.group_by_id(analysts.id).await.unwrap(), Some(expected));
    let renamed = db
        .update_group(
            analysts.id,
            later,
            &GroupChange {
                name: Some("Data".into()),
                description: Some(String::new()),
                external_ids: Some(vec!["g-data".into()]),
                role: Some(Some(Role::KmAdmin)),
            },
            &row("group.update"),
        )
        .await
        .unwrap();
    let GroupOutcome::Written(renamed) = renamed else {
        panic!("{renamed:?}")
    };
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.description.as_str(),
            renamed.role,
            renamed.external_ids.clone(),
            renamed.created_at
        ),
        (
            "Data",
            "",
            Some(Role::KmAdmin),
            vec!["g-data".to_owned()],
            analysts.created_at
        )
    );
    assert_eq!(db.group_by_name("analysts").await.unwrap(), None);
    let same_name_other_case = db
        .update_group(
            analysts.id,
            later,
            &GroupChange {
                name: Some("DATA".into()),
                ..Default::default()
            },
            &row("group.update"),
        )
        .await
        .unwrap();
    assert!(
        matches!(same_name_other_case, GroupOutcome::Written(ref g) if g.name == "DATA"),
        "a group may change the case of its own name"
    );
    for (id, change, expected) in [
        (
            plain.id,
            GroupChange {
                name: Some("admins".into()),
                ..Default::default()
            },
            GroupOutcome::NameTaken,
        ),
        (
            Uuid::new_v4(),
            GroupChange {
                description: Some("x".into()),
                ..Default::default()
            },
            GroupOutcome::NotFound,
        ),
    ] {
        assert_eq!(
            db.update_group(id, later, &change, &row("group.update"))
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(audited(&db, "group.update").await, 3);
    assert_eq!(db.group_by_id(plain.id).await.unwrap(), Some(plain.clone()));

    assert_eq!(
        db.delete_group(analysts.id, &row("group.delete"))
            .await
            .unwrap(),
        Some(vec![user.id]),
        "the members it had"
    );
    assert_eq!(db.group_by_id(analysts.id).await.unwrap(), None);
    assert!(db.groups_of_user(user.id).await.unwrap().is_empty());
    assert_eq!(
        db.delete_group(analysts.id, &row("group.delete"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(audited(&db, "group.delete").await, 1);
    assert_eq!(list(None, 100, 0).await.1, 2);
    let _ = admins;
}

pub async fn memberships_are_added_removed_and_synced_by_source(db: Db) {
    let analysts = add_group(&db, "Analysts", Some(Role::Analyst), &["a"]).await;
    let admins = add_group(&db, "Admins", Some(Role::Admin), &["b"]).await;
    let club = add_group(&db, "Club", None, &["c"]).await;
    let ann = add_user(&db, "ann@example.com", Role::Viewer).await;
    let bob = add_user(&db, "bob@example.com", Role::Viewer).await;
    let add = |group: Uuid, user: Uuid| {
        let db = db.clone();
        async move {
            db.add_member(group, user, now(), &row("group.member_add"))
                .await
                .unwrap()
        }
    };
    assert_eq!(add(analysts.id, ann.id).await, AddMemberOutcome::Added);
    assert_eq!(
        add(analysts.id, ann.id).await,
        AddMemberOutcome::AlreadyMember
    );
    assert_eq!(
        add(Uuid::new_v4(), ann.id).await,
        AddMemberOutcome::GroupNotFound
    );
    assert_eq!(
        add(analysts.id, Uuid::new_v4()).await,
        AddMemberOutcome::UserNotFound
    );
    assert_eq!(add(analysts.id, bob.id).await, AddMemberOutcome::Added);
    assert_eq!(
        audited(&db, "group.member_add").await,
        2,
        "only changes are audited"
    );

    // Single sign-on adds its own memberships, never over an admin's.
    let (added, removed) = db
        .sync_sso_memberships(
            ann.id,
            &[analysts.id, admins.id, club.id],
            &[],
            now(),
            sync_row(),
        )
        .await
        .unwrap();
    let mut added_sorted = added.clone();
    added_sorted.sort();
    let mut expected = vec![admins.id, club.id];
    expected.sort();
    assert_eq!((added_sorted, removed), (expected.clone(), vec![]));
    // The row names what the sync did: Analysts was Ann's already.
    let rows = db
        .list_audit(&da_domain::store::AuditFilter {
            action_prefix: Some("group.sso_sync".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut logged: Vec<Uuid> = serde_json::from_value(rows[0].params["added"].clone()).unwrap();
    logged.sort();
    assert_eq!(logged, expected);
    let sources = |user: Uuid| {
        let db = db.clone();
        async move {
            db.groups_of_user(user)
                .await
                .unwrap()
                .into_iter()
                .map(|(g, source)| (g.name, source))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sources(ann.id).await,
        [
            ("Admins".into(), MembershipSource::Sso),
            ("Analysts".into(), MembershipSource::Admin),
            ("Club".into(), MembershipSource::Sso)
        ],
        "by name"
    );
    // The same sync again changes nothing and writes no row.
    assert_eq!(
        db.sync_sso_memberships(
            ann.id,
            &[analysts.id, admins.id, club.id],
            &[],
            now(),
            sync_row(),
        )
        .await
        .unwrap(),
        (vec![], vec![])
    );
    assert_eq!(audited(&db, "group.sso_sync").await, 1);

    let mut roles = db
        .group_roles_of_users(&[ann.id, bob.id, Uuid::new_v4()])
        .await
        .unwrap();
    roles.sort_by_key(|(user, role)| (*user, *role));
    let mut expected = vec![
        (ann.id, Role::Analyst),
        (ann.id, Role::Admin),
        (bob.id, Role::Analyst),
    ];
    expected.sort_by_key(|(user, role)| (*user, *role));
    assert_eq!(roles, expected, "groups without a role grant nothing");
    assert!(db.group_roles_of_users(&[]).await.unwrap().is_empty());

    let members = db.group_members(analysts.id).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.email.as_str(), m.name.as_str(), m.source))
            .collect::<Vec<_>>(),
        [
            ("ann@example.com", "ann", MembershipSource::Admin),
            ("bob@example.com", "bob", MembershipSource::Admin)
        ]
    );
    assert!(db.group_members(Uuid::new_v4()).await.unwrap().is_empty());

    // An admin cannot take away what single sign-on manages, but can take it over.
    let remove = |group: Uuid, user: Uuid| {
        let db = db.clone();
        async move {
            db.remove_member(group, user, &row("group.member_remove"))
                .await
                .unwrap()
        }
    };
    assert_eq!(remove(club.id, ann.id).await, RemoveMemberOutcome::BySso);
    assert_eq!(add(club.id, ann.id).await, AddMemberOutcome::MadeAdmin);
    assert_eq!(remove(club.id, ann.id).await, RemoveMemberOutcome::Removed);
    assert_eq!(
        remove(club.id, ann.id).await,
        RemoveMemberOutcome::NotMember
    );
    assert_eq!(
        remove(Uuid::new_v4(), ann.id).await,
        RemoveMemberOutcome::NotMember
    );
    assert_eq!(audited(&db, "group.member_remove").await, 1);

    // A sync removes only its own memberships.
    let (added, removed) = db
        .sync_sso_memberships(ann.id, &[], &[analysts.id, admins.id], now(), sync_row())
        .await
        .unwrap();
    assert_eq!((added, removed), (vec![], vec![admins.id]));
    assert_eq!(
        sources(ann.id).await,
        [("Analysts".into(), MembershipSource::Admin)]
    );

    // A deleted user's memberships go with them (an admin stays, so the delete is allowed).
    add_user(&db, "root@example.com", Role::Admin).await;
    assert!(matches!(
        db.delete_user(bob.id, now(), &row("user.delete"))
            .await
            .unwrap(),
        DeleteOutcome::Deleted { .. }
    ));
    assert_eq!(db.group_members(analysts.id).await.unwrap().len(), 1);
    assert!(db.group_roles_of_users(&[bob.id]).await.unwrap().is_empty());
}

pub async fn racing_group_writes_keep_names_unique_and_members_single(db: Db) {
    for round in 0..10 {
        // Creates of one name, in different cases, at once: exactly one wins.
        let mut creates = JoinSet::new();
        for i in 0..6 {
            let db = db.clone();
            let name = if i % 2 == 0 {
                format!("Team {round}")
            } else {
                format!("TEAM {round}")
            };
            creates.spawn(async move {
                db.create_group(&group(&name, None, &[]), &row("group.create"))
                    .await
                    .unwrap()
            });
        }
        let outcomes = creates.join_all().await;
        let wins = outcomes
            .iter()
            .filter(|o| matches!(o, GroupOutcome::Written(_)))
            .count();
        assert_eq!(wins, 1, "round {round}: {outcomes:?}");

        // Renames onto one free name at once: one wins.
        let a = add_group(&db, &format!("a{round}"), None, &[]).await;
        let b = add_group(&db, &format!("b{round}"), None, &[]).await;
        let rename = |id: Uuid| {
            let db = db.clone();
            let change = GroupChange {
                name: Some(format!("c{round}")),
                ..Default::default()
            };
            tokio::spawn(async move {
                db.update_group(id, now(), &change, &row("group.update"))
                    .await
                    .unwrap()
            })
        };
        let (x, y) = tokio::join!(rename(a.id), rename(b.id));
        let outcomes = [x.unwrap(), y.unwrap()];
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| **o == GroupOutcome::NameTaken)
                .count(),
            1,
            "round {round}: {outcomes:?}"
        );

        // Adds of one member at once, racing a sync: one membership.
        let user = add_user(&db, &format!("u{round}@example.com"), Role::Viewer).await;
        let mut adds = JoinSet::new();
        for _ in 0..4 {
            let db = db.clone();
            adds.spawn(async move {
                db.add_member(a.id, user.id, now(), &row("group.member_add"))
                    .await
                    .unwrap();
            });
        }
        {
            let db = db.clone();
            adds.spawn(async move {
                db.sync_sso_memberships(user.id, &[a.id], &[], now(), sync_row())
                    .await
                    .unwrap();
            });
        }
        adds.join_all().await;
        let members = db.group_members(a.id).await.unwrap();
        assert_eq!(members.len(), 1, "round {round}: {members:?}");
        assert_eq!(
            members[0].source,
            MembershipSource::Admin,
            "round {round}: an admin's add wins over single sign-on, whichever came first"
        );
    }
}

pub async fn single_use_keys_are_claimed_once_even_when_racing(db: Db) {
    let at = now();
    assert!(
        db.claim_single_use("k1", at + Duration::minutes(10), at)
            .await
            .unwrap()
    );
    assert!(
        !db.claim_single_use("k1", at + Duration::minutes(10), at)
            .await
            .unwrap(),
        "a replay"
    );
    assert!(
        db.claim_single_use("k2", at + Duration::minutes(10), at)
            .await
            .unwrap()
    );
    // Once expired it is swept, so the table does not grow forever (and a value that old is
    // refused before it gets here).
    let later = at + Duration::minutes(11);
    assert!(
        db.claim_single_use("k1", later + Duration::minutes(10), later)
            .await
            .unwrap()
    );
    for round in 0..20 {
        let key = format!("race-{round}");
        let mut claims = JoinSet::new();
        for _ in 0..6 {
            let db = db.clone();
            let key = key.clone();
            claims.spawn(async move {
                db.claim_single_use(&key, now() + Duration::minutes(10), now())
                    .await
                    .unwrap()
            });
        }
        let wins = claims.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(wins, 1, "round {round}");
    }
}

/// Standalone audit rows written at once (a flood of queries): every one lands, each exactly
/// once, and a caller hears success only once its row is committed.
pub async fn a_flood_of_audit_rows_lands_every_row_once(db: Db) {
    let mut writers = JoinSet::new();
    for n in 0..200 {
        let db = db.clone();
        writers.spawn(async move {
            let mut audit = row("query.run");
            audit.resource = Some(format!("flood:{n}"));
            db.insert_audit(&audit).await.unwrap();
            // Committed before the call returned: a read right after finds it.
            let found = db
                .list_audit(&AuditFilter {
                    resource: Some(format!("flood:{n}")),
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "row {n}");
        });
    }
    writers.join_all().await;
    let total = db
        .count_audit(&AuditFilter {
            action_prefix: Some("query.run".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 200);
}

fn dataset(name: &str, sha: &str) -> DatasetRecord {
    DatasetRecord {
        name: name.into(),
        description: String::new(),
        format: da_types::DatasetFormat::Parquet,
        size_bytes: 1234,
        rows: 10,
        columns: vec![da_types::Column {
            name: "id".into(),
            data_type: "BIGINT".into(),
        }],
        sha256: sha.into(),
        min_role: None,
        created_at: now(),
        updated_at: now(),
        groups: Vec::new(),
    }
}

pub async fn datasets_are_put_replaced_changed_granted_and_deleted(db: Db) {
    let (put, created) = db
        .put_dataset(&dataset("sales", "aa"), Some("Orders"), &row("dataset.put"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (put.description.as_str(), put.sha256.as_str()),
        ("Orders", "aa")
    );
    db.put_dataset(&dataset("orders", "bb"), None, &row("dataset.put"))
        .await
        .unwrap();
    let finance = add_group(&db, "Finance", None, &[]).await;

    // Grants: idempotent, to real groups of real datasets only.
    let grant = |name: &'static str, group: Uuid| {
        let db = db.clone();
        async move {
            db.grant_dataset(name, group, now(), &row("dataset.grant"))
                .await
                .unwrap()
        }
    };
    assert_eq!(grant("sales", finance.id).await, GrantOutcome::Granted);
    assert_eq!(
        grant("sales", finance.id).await,
        GrantOutcome::AlreadyGranted
    );
    assert_eq!(
        grant("nope", finance.id).await,
        GrantOutcome::DatasetNotFound
    );
    assert_eq!(
        grant("sales", Uuid::new_v4()).await,
        GrantOutcome::GroupNotFound
    );
    assert_eq!(
        audited(&db, "dataset.grant").await,
        1,
        "only changes are audited"
    );

    // A replaced file keeps the description (unless given), the minimum role and the grants.
    db.update_dataset(
        "sales",
        &DatasetChange {
            min_role: Some(Some(Role::Analyst)),
            ..Default::default()
        },
        now(),
        &row("dataset.update"),
    )
    .await
    .unwrap()
    .expect("updated");
    let (replaced, created) = db
        .put_dataset(&dataset("sales", "cc"), None, &row("dataset.put"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(
        (
            replaced.sha256.as_str(),
            replaced.description.as_str(),
            replaced.min_role,
            replaced.groups.clone()
        ),
        ("cc", "Orders", Some(Role::Analyst), vec![finance.id])
    );
    let all = db.datasets().await.unwrap();
    assert_eq!(
        all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["orders", "sales"],
        "by name"
    );
    assert_eq!(all[1].groups, vec![finance.id]);

    // Changes touch what they name; `Some(None)` clears the minimum role.
    let cleared = db
        .update_dataset(
            "sales",
            &DatasetChange {
                min_role: Some(None),
                ..Default::default()
            },
            now(),
            &row("dataset.update"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cleared.min_role, cleared.description.as_str()),
        (None, "Orders")
    );
    assert_eq!(
        db.update_dataset(
            "nope",
            &DatasetChange::default(),
            now(),
            &row("dataset.update")
        )
        .await
        .unwrap(),
        None
    );

    // Revoking, deleting a group and deleting a dataset take their grants along.
    assert!(
        db.revoke_dataset("sales", finance.id, &row("dataset.revoke"))
            .await
            .unwrap()
    );
    assert!(
        !db.revoke_dataset("sales", finance.id, &row("dataset.revoke"))
            .await
            .unwrap()
    );
    assert_eq!(grant("sales", finance.id).await, GrantOutcome::Granted);
    assert_eq!(grant("orders", finance.id).await, GrantOutcome::Granted);
    assert!(
        db.delete_dataset("orders", &row("dataset.delete"))
            .await
            .unwrap()
    );
    assert!(
        !db.delete_dataset("orders", &row("dataset.delete"))
            .await
            .unwrap()
    );
    assert_eq!(db.dataset("orders").await.unwrap(), None);
    db.delete_group(finance.id, &row("group.delete"))
        .await
        .unwrap();
    assert!(
        db.dataset("sales")
            .await
            .unwrap()
            .unwrap()
            .groups
            .is_empty()
    );
    // Re-creating "orders" starts without the old grants.
    db.put_dataset(&dataset("orders", "dd"), None, &row("dataset.put"))
        .await
        .unwrap();
    assert!(
        db.dataset("orders")
            .await
            .unwrap()
            .unwrap()
            .groups
            .is_empty()
    );
    assert_eq!(audited(&db, "dataset.delete").await, 1);
}

pub async fn a_shared_secret_is_stored_once_even_when_racing(db: Db) {
    let mut racing = JoinSet::new();
    for n in 0..8u8 {
        let db = db.clone();
        racing.spawn(async move { db.shared_secret("jwt", &[n; 32]).await.unwrap() });
    }
    let answers = racing.join_all().await;
    let first = answers[0].clone();
    assert!(
        answers.iter().all(|a| *a == first),
        "every racer gets the same secret"
    );
    assert!(
        (0..8u8).any(|n| first == vec![n; 32]),
        "one of the candidates"
    );
    assert_eq!(
        db.shared_secret("jwt", b"another candidate").await.unwrap(),
        first,
        "once stored it stays"
    );
    assert_eq!(
        db.shared_secret("other", b"its own").await.unwrap(),
        b"its own".to_vec(),
        "secrets are kept by name"
    );
}

pub async fn a_replica_never_hears_its_own_broadcasts(db: Db) {
    use da_domain::cache::Invalidation;
    use da_domain::store::RemoteChange;
    let heard = db.remote_changes();
    db.broadcast(&[Invalidation::User(Uuid::new_v4()), Invalidation::Datasets])
        .await
        .unwrap();
    db.broadcast(&[]).await.unwrap();
    db.announce_password(&da_domain::store::PasswordNews {
        account: "a@example.com".into(),
        client: "203.0.113.7".into(),
        outcome: da_domain::store::PasswordOutcome::Wrong,
    })
    .await
    .unwrap();
    // A backend with other replicas may say its channel came up; it never hands a replica its
    // own changes as another's (they were applied locally already).
    if let Some(mut heard) = heard {
        let quiet = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while let Ok(Ok(change)) = tokio::time::timeout_at(quiet.into(), heard.recv()).await {
            assert!(
                !matches!(change, RemoteChange::Stale(_) | RemoteChange::Password(_)),
                "heard its own broadcast: {change:?}"
            );
        }
    }
}

/// Every audited write of many writers at once extends one chain: `seq` runs 1..=N without a
/// gap or a repeat, and every hash checks out.
pub async fn the_audit_chain_holds_under_concurrent_writers(db: Db) {
    let owner = add_user(&db, "chain@example.com", Role::Analyst).await;
    let mut writers = JoinSet::new();
    for n in 0..8 {
        let db = db.clone();
        writers.spawn(async move {
            for i in 0..15 {
                match i % 3 {
                    // Standalone rows (DuckDB batches them; PostgreSQL autocommits them).
                    0 => db.insert_audit(&row("query.run")).await.unwrap(),
                    // Rows in a write transaction with a guard.
                    1 => {
                        let secret = da_domain::pat::generate().unwrap();
                        db.create_token(&token(owner.id, &secret), &row("token.create"))
                            .await
                            .unwrap();
                    }
                    _ => {
                        add_user(&db, &format!("w{n}-{i}@example.com"), Role::Viewer).await;
                    }
                }
            }
        });
    }
    writers.join_all().await;
    let rows = db.audit_chain(0, 10_000).await.unwrap();
    assert_eq!(rows.len(), 1 + 8 * 15);
    let mut check = da_domain::audit_chain::ChainCheck::default();
    for (i, chained) in rows.iter().enumerate() {
        assert_eq!(chained.seq, i as u64 + 1);
        assert!(check.push(chained), "row {} does not chain", chained.seq);
    }
    // The recorded head is the last row, and every row is accounted for.
    let state = db.audit_chain_state().await.unwrap();
    assert_eq!(state.head_seq, rows.len() as u64);
    assert_eq!(state.head_hash, rows.last().unwrap().hash);
    assert_eq!(state.rows, state.head_seq);
    // Paging by seq gives the same rows.
    let tail = db.audit_chain(100, 10).await.unwrap();
    assert_eq!(
        tail.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (101..=110).collect::<Vec<_>>()
    );
}

fn rotation(presented: &str, next: &str) -> RefreshRotation {
    let at = now();
    RefreshRotation {
        presented_hash: presented.into(),
        next_hash: next.into(),
        at,
        expires_at: at + Duration::days(30),
    }
}

/// A refresh token is spent once: presenting it again revokes the session and every token of
/// its family; of refreshes racing with one token, one rotates and the rest find it spent.
pub async fn a_refresh_token_rotates_once_and_a_reuse_revokes_the_family(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    let cli = session(ann.id, Duration::days(1));
    assert_eq!(
        db.record_login(
            &cli,
            Some("rt-1"),
            &LoginCheck::default(),
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::Recorded
    );
    let first = db.refresh_token("rt-1").await.unwrap().unwrap();
    assert_eq!((first.session_id, first.spent_at), (cli.id, None));

    let step = rotation("rt-1", "rt-2");
    match db
        .rotate_refresh(
            &step,
            &row("session.refresh"),
            &row("session.refresh_reuse"),
        )
        .await
        .unwrap()
    {
        RefreshOutcome::Rotated(session) => {
            assert_eq!(session.id, cli.id);
            assert_eq!(session.expires_at, step.expires_at);
            assert!(session.last_active_at >= step.at);
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    assert!(
        db.refresh_token("rt-1")
            .await
            .unwrap()
            .unwrap()
            .spent_at
            .is_some()
    );
    assert_eq!(audited(&db, "session.refresh").await, 1);
    assert_eq!(
        db.rotate_refresh(&rotation("rt-nope", "rt-x"), &row("a"), &row("b"))
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );

    // The spent one again: the whole family goes.
    assert_eq!(
        db.rotate_refresh(
            &rotation("rt-1", "rt-3"),
            &row("session.refresh"),
            &row("session.refresh_reuse")
        )
        .await
        .unwrap(),
        RefreshOutcome::Reused(cli.id)
    );
    assert!(
        db.session_by_id(cli.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        db.refresh_token("rt-2")
            .await
            .unwrap()
            .unwrap()
            .spent_at
            .is_some()
    );
    assert_eq!(db.refresh_token("rt-3").await.unwrap(), None);
    assert_eq!(audited(&db, "session.refresh_reuse").await, 1);
    // The newest token of a revoked session is no good either, and reuses of a dead family
    // are not audited again.
    assert_eq!(
        db.rotate_refresh(
            &rotation("rt-2", "rt-4"),
            &row("a"),
            &row("session.refresh_reuse")
        )
        .await
        .unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(audited(&db, "session.refresh_reuse").await, 1);

    // Racing refreshes with one token, on fresh sessions.
    for round in 0..5 {
        let s = session(ann.id, Duration::days(1));
        let hash = format!("race-{round}");
        db.record_login(&s, Some(&hash), &LoginCheck::default(), &row("auth.login"))
            .await
            .unwrap();
        let mut racers = JoinSet::new();
        for n in 0..6 {
            let (db, hash) = (db.clone(), hash.clone());
            racers.spawn(async move {
                db.rotate_refresh(
                    &rotation(&hash, &format!("{hash}-next-{n}")),
                    &row("session.refresh"),
                    &row("session.refresh_reuse"),
                )
                .await
                .unwrap()
            });
        }
        let outcomes = racers.join_all().await;
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Rotated(_)))
            .count();
        let reused = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Reused(_)))
            .count();
        assert_eq!(rotated, 1, "round {round}: {outcomes:?}");
        // The first reuse revokes the session; later ones find it revoked.
        assert!(reused >= 1, "round {round}: {outcomes:?}");
        assert!(
            db.session_by_id(s.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
    }
}

fn grant(device: &str, user_code: &str, lifetime: Duration) -> DeviceGrantRecord {
    let at = now();
    DeviceGrantRecord {
        device_hash: device.into(),
        user_code_hash: user_code.into(),
        client_name: "laptop".into(),
        ip: Some("192.0.2.7".into()),
        created_at: at,
        expires_at: at + lifetime,
        interval_seconds: 5,
        last_poll_at: None,
        decision: DeviceDecision::Pending,
    }
}

/// A device request is polled, slowed down, decided once, and handed out once.
pub async fn a_device_grant_is_decided_once_and_handed_out_once(db: Db) {
    let ann = add_user(&db, "ann@example.com", Role::Analyst).await;
    // The browser session Ann approves with.
    let browser = session(ann.id, Duration::days(1));
    db.record_login(&browser, None, &LoginCheck::default(), &row("auth.login"))
        .await
        .unwrap();
    let approved = DeviceDecision::Approved {
        user_id: ann.id,
        session_id: browser.id,
    };
    let pending = grant("dev-1", "code-1", Duration::minutes(10));
    db.create_device_grant(&pending, &row("device.request"))
        .await
        .unwrap();
    let found = db.device_grant("code-1").await.unwrap().unwrap();
    assert_eq!(found, pending);
    assert_eq!(db.device_grant("code-x").await.unwrap(), None);

    assert_eq!(
        db.poll_device_grant("dev-1", now(), 1000).await.unwrap(),
        DevicePoll::Pending
    );
    // Again at once: too soon, and the interval grows.
    assert_eq!(
        db.poll_device_grant("dev-1", now(), 1000).await.unwrap(),
        DevicePoll::SlowDown
    );
    let slowed = db.device_grant("code-1").await.unwrap().unwrap();
    assert_eq!(slowed.interval_seconds, 10);
    assert_eq!(
        db.poll_device_grant("dev-1", now() + Duration::seconds(11), 1000)
            .await
            .unwrap(),
        DevicePoll::Pending
    );
    assert_eq!(
        db.poll_device_grant("dev-unknown", now(), 1000)
            .await
            .unwrap(),
        DevicePoll::Unknown
    );

    // Two decisions at once: the first holds.
    let mut deciders = JoinSet::new();
    for approve in [true, false, true, false] {
        let db = db.clone();
        deciders.spawn(async move {
            let decision = match approve {
                true => approved,
                false => DeviceDecision::Denied,
            };
            db.decide_device_grant("code-1", decision, now(), &row("device.decide"))
                .await
                .unwrap()
        });
    }
    let decided = deciders.join_all().await;
    assert_eq!(decided.iter().filter(|d| **d).count(), 1, "{decided:?}");
    assert_eq!(audited(&db, "device.decide").await, 1);
    let decision = db.device_grant("code-1").await.unwrap().unwrap().decision;

    // Polls racing for the answer: one gets it, the code is gone for the rest.
    let mut pollers = JoinSet::new();
    for _ in 0..6 {
        let db = db.clone();
        pollers.spawn(async move {
            db.poll_device_grant("dev-1", now() + Duration::seconds(30), 1000)
                .await
                .unwrap()
        });
    }
    let polls = pollers.join_all().await;
    let answered: Vec<&DevicePoll> = polls
        .iter()
        .filter(|p| **p != DevicePoll::Unknown)
        .collect();
    assert_eq!(answered.len(), 1, "{polls:?}");
    match decision {
        DeviceDecision::Approved {
            user_id,
            session_id,
        } => assert_eq!(
            answered[0],
            &DevicePoll::Approved {
                user_id,
                session_id,
                client_name: "laptop".into()
            }
        ),
        _ => assert_eq!(answered[0], &DevicePoll::Denied),
    }
    assert_eq!(db.device_grant("code-1").await.unwrap(), None);

    // An expired request is neither decided nor handed out, and the next request sweeps it.
    let stale = grant("dev-2", "code-2", Duration::seconds(1));
    db.create_device_grant(&stale, &row("device.request"))
        .await
        .unwrap();
    let later = now() + Duration::seconds(2);
    assert!(
        !db.decide_device_grant("code-2", approved, later, &row("x"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.poll_device_grant("dev-2", later, 1000).await.unwrap(),
        DevicePoll::Expired
    );
    let stale = grant("dev-3", "code-3", Duration::seconds(-1));
    db.create_device_grant(&stale, &row("device.request"))
        .await
        .unwrap();
    db.create_device_grant(
        &grant("dev-4", "code-4", Duration::minutes(10)),
        &row("device.request"),
    )
    .await
    .unwrap();
    assert_eq!(db.device_grant("code-3").await.unwrap(), None);

    // The CLI session of an approval is written only while the approving session is live.
    let approved_in = |id| LoginCheck {
        approved_in: Some(id),
        ..LoginCheck::default()
    };
    let cli = session(ann.id, Duration::days(30));
    assert_eq!(
        db.record_login(
            &cli,
            Some("rt-dev"),
            &approved_in(browser.id),
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::Recorded
    );
    db.revoke_session(browser.id, now(), &row("session.revoke"))
        .await
        .unwrap();
    let late = session(ann.id, Duration::days(30));
    assert_eq!(
        db.record_login(
            &late,
            Some("rt-late"),
            &approved_in(browser.id),
            &row("auth.login")
        )
        .await
        .unwrap(),
        LoginOutcome::ApprovalGone
    );
    assert_eq!(db.session_by_id(late.id).await.unwrap(), None);
    assert_eq!(db.refresh_token("rt-late").await.unwrap(), None);
}
