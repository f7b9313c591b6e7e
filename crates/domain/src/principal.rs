//! Who is calling: the authenticated user, their effective role and the credential used.

use crate::store::CredentialRef;
use chrono::{DateTime, Utc};
use da_types::detail::AuthFailure;
use da_types::{CredentialKind, Role};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser or CLI session (JWT) backed by a server-side session row.
    Session {
        session_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    /// A personal access token.
    Pat {
        token_id: Uuid,
        expires_at: Option<DateTime<Utc>>,
    },
}

/// An authenticated caller, resolved from current data on every request. Only the domain makes
/// one (`Services::authenticate`), so the capabilities `policy` derives from it cannot be
/// forged by a surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) user_id: Uuid,
    pub(crate) email: String,
    /// The role this request acts with: the user's current role, narrowed by a PAT's role.
    pub(crate) role: Role,
    pub(crate) credential: Credential,
}

impl Principal {
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::Session { session_id, .. } => Some(session_id),
            Credential::Pat { .. } => None,
        }
    }

    /// The credential as audit rows record it.
    pub fn credential_ref(&self) -> CredentialRef {
        match self.credential {
            Credential::Session { session_id, .. } => CredentialRef {
                kind: CredentialKind::Session,
                id: session_id,
            },
            Credential::Pat { token_id, .. } => CredentialRef {
                kind: CredentialKind::Pat,
                id: token_id,
            },
        }
    }
}

/// What authenticating a request concluded; surfaces keep it with the request.
#[derive(Debug, Clone)]
pub enum AuthState {
    /// No credential was presented.
    Anonymous,
    /// A credential was presented and refused, for this reason.
    Refused(AuthFailure),
    Authenticated(Principal),
}

impl AuthState {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            AuthState::Authenticated(principal) => Some(principal),
            _ => None,
        }
    }
}

/// The effective role: the highest of the own role and the roles the user's groups grant.
pub fn effective_role(own: Role, granted: impl IntoIterator<Item = Role>) -> Role {
    granted.into_iter().fold(own, Role::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_role_is_the_highest() {
        assert_eq!(effective_role(Role::Viewer, []), Role::Viewer);
        assert_eq!(
            effective_role(Role::Viewer, [Role::Analyst, Role::KmAdmin]),
            Role::KmAdmin
        );
        assert_eq!(effective_role(Role::Admin, [Role::Viewer]), Role::Admin);
    }
}
