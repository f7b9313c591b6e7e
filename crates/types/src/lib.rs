//! Wire types shared by every surface: the REST API, the SPA (compiled to wasm) and the CLI.
//!
//! Only serde and plain data live here, plus the input rules that both sides of the wire need
//! (email and password shape, safe redirect targets). No I/O, no HTTP framework, no storage.

pub mod accounts;
pub mod audit;
pub mod cli;
pub mod cookie;
pub mod csv;
pub mod datasets;
pub mod detail;
pub mod device;
pub mod dto;
pub mod error;
pub mod groups;
pub mod paging;
pub mod pat_format;
pub mod redirect;
pub mod role;
pub mod secret;
pub mod sso;
pub mod tokens;
pub mod user_ref;
pub mod validation;

pub use accounts::*;
pub use cli::{CliRelease, InstallInfo};
pub use datasets::*;
pub use device::*;
pub use dto::*;
pub use error::{ApiError, ErrorCode};
pub use groups::*;
pub use redirect::safe_next;
pub use role::{Role, UnknownRole};
pub use secret::Secret;
pub use sso::{AuthProviders, OidcProviderInfo};
pub use tokens::*;
pub use user_ref::UserRef;

/// Name of the cookie that carries a browser's session JWT.
pub const SESSION_COOKIE: &str = "access_token";
