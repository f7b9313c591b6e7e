//! Concurrent changes to one user never undo each other (`API.md` §3 "Concurrent changes"):
//! a slow password change (Argon2 takes tens of milliseconds) racing a fast role change or
//! deactivation keeps both, and an admin edit racing a password change keeps the new password.

use crate::users::refused;
use da_integration_tests::TestServer;
use da_types::UpdateUserRequest;

const ROUNDS: usize = 6;

fn role(role: &str) -> UpdateUserRequest {
    UpdateUserRequest {
        role: Some(role.to_owned()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_password_change_racing_a_demotion_keeps_the_demotion() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("racer@example.com", "km_admin", "password-0")
        .await;
    let racer = server.signed_in("racer@example.com", "password-0").await;
    for round in 0..ROUNDS {
        admin.update_user(user.id, &role("km_admin")).await.unwrap();
        let (current, next) = (
            format!("password-{round}"),
            format!("password-{}", round + 1),
        );
        // Both start together: the password change reads the user, then spends two Argon2
        // runs, while the demotion is done in a few milliseconds.
        let viewer = role("viewer");
        let (changed, demoted) = tokio::join!(
            racer.change_password(&current, &next),
            admin.update_user(user.id, &viewer)
        );
        changed.unwrap();
        assert_eq!(demoted.unwrap().role, da_types::Role::Viewer);
        let now = admin.user(user.id).await.unwrap();
        assert_eq!(
            now.role,
            da_types::Role::Viewer,
            "round {round}: the password change undid the demotion"
        );
        // And the password change itself stuck.
        server.signed_in("racer@example.com", &next).await;
        assert_eq!(racer.me().await.unwrap().role, da_types::Role::Viewer);
    }
}

#[tokio::test]
async fn a_password_change_racing_a_deactivation_keeps_the_account_deactivated() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("leaver@example.com", "analyst", "password-0")
        .await;
    for round in 0..ROUNDS {
        admin.activate_user(user.id).await.unwrap();
        admin
            .set_user_password(user.id, "password-0")
            .await
            .unwrap();
        let leaver = server.signed_in("leaver@example.com", "password-0").await;
        let (changed, deactivated) = tokio::join!(
            leaver.change_password("password-0", "password-1"),
            admin.deactivate_user(user.id)
        );
        assert!(!deactivated.unwrap().active);
        let now = admin.user(user.id).await.unwrap();
        assert!(
            !now.active && now.deactivated_at.is_some(),
            "round {round}: the password change re-activated the account ({changed:?})"
        );
        assert_eq!(
            refused(leaver.me().await),
            (401, "Account deactivated".into())
        );
    }
}

#[tokio::test]
async fn admin_edits_racing_a_password_change_never_bring_the_old_hash_back() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("target@example.com", "analyst", "password-0")
        .await;
    for round in 0..ROUNDS {
        let next = format!("password-{}", round + 1);
        // Several admins keep editing the name while one sets a new password: each edit reads
        // the user and writes it back a moment later.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut editors = tokio::task::JoinSet::new();
        for editor in 0..4 {
            let (admin, stop) = (admin.clone(), stop.clone());
            editors.spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let name = UpdateUserRequest {
                        name: Some(format!("Target {editor}-{n}")),
                        ..Default::default()
                    };
                    admin.update_user(user.id, &name).await.unwrap();
                    n += 1;
                }
                n
            });
        }
        admin.set_user_password(user.id, &next).await.unwrap();
        // Let the editors run on past the password write before stopping them.
        for _ in 0..3 {
            admin.user(user.id).await.unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let edits: usize = editors.join_all().await.into_iter().sum();
        assert!(edits > 0);
        let login = server.client().login("target@example.com", &next).await;
        assert!(
            login.is_ok(),
            "round {round}: the new password was lost to a concurrent edit: {login:?}"
        );
    }
}
