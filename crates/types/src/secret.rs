//! Secrets in DTOs: passwords, tokens and links never show up in `Debug` output (and so never
//! in a log line or a panic message).

use serde::{Deserialize, Serialize};

/// A secret string: serialises as the plain string, prints as `<redacted>`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// `Debug` for a struct that prints its `secret` fields as `<redacted>`.
///
/// `debug_redacting!(LoginRequest { email } secret { password });`
#[macro_export]
macro_rules! debug_redacting {
    ($ty:ident { $($field:ident),* $(,)? } secret { $($secret:ident),* $(,)? }) => {
        impl ::core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($secret), &"<redacted>"))*
                    .finish()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_serialise_plainly_and_print_redacted() {
        let secret = Secret::new("hunter2hunter2");
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            r#""hunter2hunter2""#
        );
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let back: Secret = serde_json::from_str(r#""x""#).unwrap();
        assert_eq!(back.expose(), "x");
    }

    #[test]
    fn no_dto_prints_its_secret() {
        use crate::*;
        let secret = "s3cr3t-value";
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let shown = [
            format!(
                "{:?}",
                LoginRequest {
                    email: "a@b.c".into(),
                    password: secret.into(),
                    client: LoginClient::Cli,
                }
            ),
            format!(
                "{:?}",
                BootstrapRequest {
                    email: "a@b.c".into(),
                    name: None,
                    password: secret.into()
                }
            ),
            format!(
                "{:?}",
                TokenResponse {
                    access_token: secret.into(),
                    token_type: "bearer".into(),
                    user_id: uuid::Uuid::nil(),
                    email: "a@b.c".into(),
                    role: Role::Admin,
                    expires_at: at,
                    refresh_token: Some(secret.into()),
                }
            ),
            format!(
                "{:?}",
                LeakReport {
                    tokens: vec![secret.into()],
                    source: None,
                }
            ),
            format!(
                "{:?}",
                DeviceTokenRequest {
                    device_code: secret.into()
                }
            ),
            format!(
                "{:?}",
                SetPasswordRequest {
                    password: secret.into()
                }
            ),
            format!(
                "{:?}",
                ChangePasswordRequest {
                    current_password: secret.into(),
                    new_password: secret.into()
                }
            ),
            format!(
                "{:?}",
                ResetConfirmRequest {
                    email: "a@b.c".into(),
                    token: secret.into(),
                    password: secret.into()
                }
            ),
            format!(
                "{:?}",
                SetupRequest {
                    email: "a@b.c".into(),
                    token: secret.into(),
                    password: secret.into(),
                    name: None
                }
            ),
            format!(
                "{:?}",
                CreateUserRequest {
                    email: "a@b.c".into(),
                    password: Some(secret.into()),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                ResetLink {
                    reset_url: secret.into(),
                    email_sent: false
                }
            ),
        ];
        for line in shown {
            assert!(!line.contains(secret), "{line}");
            assert!(line.contains("<redacted>"), "{line}");
        }
    }
}
