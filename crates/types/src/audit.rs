//! The audit log's vocabulary (`API.md` §7): action names and the values their parameters
//! take. Written once here, for the server that writes rows and the web UI that reads them.

/// Actions, as rows carry them.
pub mod action {
    pub const AUTH_LOGIN: &str = "auth.login";
    pub const AUTH_LOGIN_FAILED: &str = "auth.login_failed";
    pub const AUTH_LOGOUT: &str = "auth.logout";
    pub const AUTH_BOOTSTRAP: &str = "auth.bootstrap";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_UPDATE: &str = "user.update";
    pub const USER_DELETE: &str = "user.delete";
    pub const USER_RESET_PASSWORD: &str = "user.reset_password";
    pub const USER_INVITE: &str = "user.invite";
    pub const USER_SET_PASSWORD: &str = "user.set_password";
    pub const USER_PASSWORD_CHANGED: &str = "user.password_changed";
    pub const SESSION_REVOKE: &str = "session.revoke";
    pub const TOKEN_CREATE: &str = "token.create";
    pub const TOKEN_REVOKE: &str = "token.revoke";
    pub const TOKEN_ADMIN_REVOKE: &str = "token.admin_revoke";
    pub const TOKEN_FIRST_USE_NEW_IP: &str = "token.first_use_new_ip";
    pub const GROUP_CREATE: &str = "group.create";
    pub const GROUP_UPDATE: &str = "group.update";
    pub const GROUP_DELETE: &str = "group.delete";
    pub const GROUP_MEMBER_ADD: &str = "group.member_add";
    pub const GROUP_MEMBER_REMOVE: &str = "group.member_remove";
    pub const GROUP_SSO_SYNC: &str = "group.sso_sync";
    pub const DATASET_PUT: &str = "dataset.put";
    pub const DATASET_UPDATE: &str = "dataset.update";
    pub const DATASET_DELETE: &str = "dataset.delete";
    pub const DATASET_GRANT: &str = "dataset.grant";
    pub const DATASET_REVOKE: &str = "dataset.revoke";
    pub const QUERY_RUN: &str = "query.run";
    pub const SESSION_REFRESH: &str = "session.refresh";
    pub const SESSION_REFRESH_REUSE: &str = "session.refresh_reuse";
    pub const DEVICE_REQUEST: &str = "device.request";
    pub const DEVICE_APPROVE: &str = "device.approve";
    pub const DEVICE_DENY: &str = "device.deny";
    pub const TOKEN_LEAK_REVOKE: &str = "token.leak_revoke";

    /// Every action above.
    pub const ALL: &[&str] = &[
        AUTH_LOGIN,
        AUTH_LOGIN_FAILED,
        AUTH_LOGOUT,
        AUTH_BOOTSTRAP,
        USER_CREATE,
        USER_UPDATE,
        USER_DELETE,
        USER_RESET_PASSWORD,
        USER_INVITE,
        USER_SET_PASSWORD,
        USER_PASSWORD_CHANGED,
        SESSION_REVOKE,
        TOKEN_CREATE,
        TOKEN_REVOKE,
        TOKEN_ADMIN_REVOKE,
        TOKEN_FIRST_USE_NEW_IP,
        GROUP_CREATE,
        GROUP_UPDATE,
        GROUP_DELETE,
        GROUP_MEMBER_ADD,
        GROUP_MEMBER_REMOVE,
        GROUP_SSO_SYNC,
        DATASET_PUT,
        DATASET_UPDATE,
        DATASET_DELETE,
        DATASET_GRANT,
        DATASET_REVOKE,
        QUERY_RUN,
        SESSION_REFRESH,
        SESSION_REFRESH_REUSE,
        DEVICE_REQUEST,
        DEVICE_APPROVE,
        DEVICE_DENY,
        TOKEN_LEAK_REVOKE,
    ];
}

/// `reason` of `auth.login_failed`.
pub mod failure {
    pub const UNKNOWN_EMAIL: &str = "unknown_email";
    pub const NO_PASSWORD: &str = "no_password";
    pub const WRONG_PASSWORD: &str = "wrong_password";
    pub const DEACTIVATED: &str = "deactivated";
    /// A password login to an account that signs in with single sign-on only.
    pub const SSO_ONLY: &str = "sso_only";
}

/// `method` of `auth.login` and `auth.login_failed`. A failed single sign-on's `reason` is its
/// `/login?error=` code.
pub mod method {
    pub const PASSWORD: &str = "password";
    /// A redeemed setup or reset link, which signs the user in.
    pub const LINK: &str = "link";
    pub const OIDC: &str = "oidc";
    /// The device authorization grant, approved in a browser.
    pub const DEVICE: &str = "device";
}

/// `issued_by` of `user.reset_password`.
pub mod issued_by {
    pub const SELF: &str = "self";
    pub const ADMIN: &str = "admin";
}

/// `via` of `user.password_changed`.
pub mod via {
    pub const RESET_LINK: &str = "reset_link";
    pub const SETUP_LINK: &str = "setup_link";
    pub const SELF: &str = "self";
}

/// `scope` of `session.revoke`.
pub mod scope {
    pub const ONE: &str = "one";
    pub const OTHERS: &str = "others";
    pub const ALL: &str = "all";
}

/// How long the one-time links live.
pub mod links {
    pub const RESET_HOURS: i64 = 24;
    pub const INVITE_DAYS: i64 = 7;
}
