//! Request extractors: a JSON body with contract-shaped errors, the authenticated caller, and
//! where the request came from.

use crate::http_error::HttpError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use da_domain::{Admin, AuthState, ClientInfo, Interactive, Principal};
use da_types::ErrorCode;
use da_types::detail::AuthFailure;
use serde::de::DeserializeOwned;

pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The caller of a route that requires a credential; 401 with the precise reason otherwise.
pub struct Authenticated(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let why = match parts.extensions.get::<AuthState>() {
            Some(AuthState::Authenticated(principal)) => {
                return Ok(Authenticated(principal.clone()));
            }
            Some(AuthState::Refused(why)) => *why,
            Some(AuthState::Anonymous) | None => AuthFailure::MissingCredential,
        };
        Err(da_domain::Error::Unauthenticated(why).into())
    }
}

/// The caller of an admin-only route: 401 without a credential, 403 for a non-admin (the
/// policy of `da_domain::policy`).
pub struct AdminCaller(pub Admin);

impl<S: Send + Sync> FromRequestParts<S> for AdminCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        Ok(AdminCaller(da_domain::require_admin(&caller)?))
    }
}

/// The caller of a route that needs an interactive session: 403 for a PAT.
pub struct SessionCaller(pub Interactive);

impl<S: Send + Sync> FromRequestParts<S> for SessionCaller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        Ok(SessionCaller(da_domain::require_session(&caller)?))
    }
}

/// The client's IP and User-Agent, as the middleware resolved them.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ClientInfo>()
                .cloned()
                .unwrap_or_default(),
        ))
    }
}

/// A JSON body. Errors follow the contract: a wrong content type, malformed JSON, a missing
/// field or a wrong type → 422 naming the field (never echoing the value); too large → 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(HttpError::new(
                ErrorCode::Unprocessable,
                "Request body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            HttpError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "Request body is too large (limit {} KiB)",
                    BODY_LIMIT_BYTES / 1024
                ),
            )
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialises `bytes`, describing a failure by field path and kind only.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    if value.is_ok() && deserializer.end().is_err() {
        // Trailing bytes after a complete value.
        return Err(HttpError::new(
            ErrorCode::Unprocessable,
            "Malformed JSON body",
        ));
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "Malformed JSON body".to_owned()
            }
            serde_json::error::Category::Io => "Could not read the request body".to_owned(),
            serde_json::error::Category::Data => match missing_field(&inner.to_string()) {
                Some(field) => format!("Field required: {}", join_path(&path, &field)),
                // A top-level array reports its first element's index as the path.
                None if path == "." || path.is_empty() || path.starts_with('[') => {
                    "Request body must be a JSON object".to_owned()
                }
                None => format!("Invalid value for field: {path}"),
            },
        };
        HttpError::new(ErrorCode::Unprocessable, detail)
    })
}

/// serde's message for a missing field is "missing field `name`"; the name is ours, not input.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use da_types::LoginRequest;

    fn detail(body: &str) -> String {
        parse_json::<LoginRequest>(body.as_bytes())
            .unwrap_err()
            .error
            .detail
    }

    #[test]
    fn errors_name_the_field_but_never_the_value() {
        assert_eq!(detail(r#"{"email": "a@b.c"}"#), "Field required: password");
        let wrong = detail(r#"{"email": "a@b.c", "password": 1234567890}"#);
        assert_eq!(wrong, "Invalid value for field: password");
        assert!(!wrong.contains("1234567890"));
        assert_eq!(detail(r#"{"email": "#), "Malformed JSON body");
        assert_eq!(detail("[1, 2]"), "Request body must be a JSON object");
        assert_eq!(
            detail(r#"{"email":"a","password":"b"} trailing"#),
            "Malformed JSON body"
        );
    }

    #[test]
    fn good_bodies_parse() {
        let req: LoginRequest =
            parse_json(br#"{"email":"a@b.c","password":"pw","extra":1}"#).unwrap();
        assert_eq!(req.email, "a@b.c");
    }
}
