//! Page sizes of the listings (`API.md` §5–§7), written once for the server, the SPA and the CLI.

/// Largest (and default) `limit` of `GET /api/users`.
pub const USERS_MAX: u32 = 1000;
/// Largest (and default) `limit` of `GET /auth/admin/tokens`.
pub const TOKENS_MAX: u32 = 1000;
/// Largest (and default) `limit` of `GET /api/groups`.
pub const GROUPS_MAX: u32 = 1000;
/// Largest `limit` of `GET /api/admin/audit`.
pub const AUDIT_MAX: u32 = 500;
/// Default `limit` of `GET /api/admin/audit`.
pub const AUDIT_DEFAULT: u32 = 100;
/// Rows a page of the web UI's tables shows.
pub const UI_PAGE: u32 = 50;
/// Largest `offset`: what a signed 64-bit database column can address.
pub const OFFSET_MAX: u64 = i64::MAX as u64;
