//! One contract for every [`Store`] backend: what each trait method must do, and the races it
//! must win. A backend runs it with [`store_contract_tests!`], giving a factory that makes a
//! fresh, empty store per test:
//!
//! ```ignore
//! da_store_contract::store_contract_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = DuckDbStore::open(&dir.path().join("da.duckdb")).unwrap();
//!     da_store_contract::Subject::new(store, dir)
//! });
//! ```
//!
//! Concurrency cases hammer (many rounds, many tasks at once) instead of sleeping.

pub mod cases;
mod fixtures;

use da_domain::Store;
use std::sync::Arc;

/// A store under test, and whatever must live as long as it (a temp dir, a database).
pub struct Subject {
    pub store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

impl Subject {
    pub fn new(store: impl Store, keep: impl std::any::Any + Send + Sync) -> Subject {
        Subject {
            store: Arc::new(store),
            _keep: Box::new(keep),
        }
    }
}

/// Generates one `#[tokio::test]` per contract case, each on a fresh store from `$make`
/// (a closure returning a future of [`Subject`]).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_cases!($make;
            backend_and_schema,
            users_are_created_found_counted_and_listed,
            a_user_change_writes_only_its_columns,
            user_change_guards_refuse_and_roll_back,
            deleting_a_user_takes_their_credentials_and_keeps_the_audit,
            links_are_replaced_and_a_cooldown_keeps_the_pending_one,
            a_login_is_recorded_only_while_its_checks_hold,
            sessions_are_found_listed_revoked_and_touched,
            tokens_are_found_listed_revoked_and_touched,
            the_audit_log_filters_and_pages,
            concurrent_column_writes_keep_each_other,
            two_admins_deactivating_each_other_leave_one,
            a_link_is_redeemed_exactly_once_under_concurrency,
            bootstrap_racing_bootstrap_creates_one_admin,
            concurrent_flushes_of_one_token_all_succeed,
            a_revocation_racing_a_cold_cache_fill_holds,
            a_deactivation_racing_a_cold_cache_fill_holds,
            groups_are_created_found_listed_changed_and_deleted,
            memberships_are_added_removed_and_synced_by_source,
            racing_group_writes_keep_names_unique_and_members_single,
            single_use_keys_are_claimed_once_even_when_racing,
            a_flood_of_audit_rows_lands_every_row_once,
            datasets_are_put_replaced_changed_granted_and_deleted,
            a_shared_secret_is_stored_once_even_when_racing,
            a_replica_never_hears_its_own_broadcasts,
            the_audit_chain_holds_under_concurrent_writers,
            a_refresh_token_rotates_once_and_a_reuse_revokes_the_family,
            a_device_grant_is_decided_once_and_handed_out_once
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! store_contract_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let subject: $crate::Subject = ($make)().await;
                $crate::cases::$case(subject.store.clone()).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    /// Every method of the `Store` trait is exercised by some case: adding a method without a
    /// contract for it fails here.
    #[test]
    fn every_store_method_has_a_contract() {
        let store = include_str!("../../domain/src/store.rs");
        let cases = include_str!("cases.rs");
        let trait_body = &store[store.find("pub trait Store").expect("the trait")..];
        let mut missing = Vec::new();
        for line in trait_body.lines() {
            let line = line.trim();
            let Some(rest) = line
                .strip_prefix("async fn ")
                .or_else(|| line.strip_prefix("fn "))
            else {
                continue;
            };
            let name = rest.split(['(', '<']).next().unwrap_or("");
            if !cases.contains(&format!(".{name}(")) {
                missing.push(name.to_owned());
            }
        }
        assert!(
            missing.is_empty(),
            "Store methods without a contract case: {missing:?}"
        );
    }
}
