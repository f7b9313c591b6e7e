//! Who may do what, decided in one place.
//!
//! A check returns a capability value that only this module can make; service methods that
//! need a privilege take that value as an argument, so no caller can reach them without the
//! check (lldap's style). Surfaces obtain the capability and pass it on; they decide nothing.

use crate::error::{Error, detail};
use crate::principal::Principal;
use da_types::Role;
use uuid::Uuid;

/// Proof that the caller acts with the admin role on this request.
#[derive(Debug, Clone)]
pub struct Admin {
    principal: Principal,
}

impl Admin {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn user_id(&self) -> Uuid {
        self.principal.user_id
    }
}

/// Proof that the caller authenticated with an interactive session (not a PAT): needed to mint
/// tokens, change one's own password and manage one's own sessions.
#[derive(Debug, Clone)]
pub struct Interactive {
    principal: Principal,
    session_id: Uuid,
}

impl Interactive {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn session_id(&self) -> Uuid {
        self.session_id
    }
}

/// 403 `Admin access required` unless the caller's role (as narrowed by a PAT) is admin.
pub fn require_admin(caller: &Principal) -> Result<Admin, Error> {
    if caller.role == Role::Admin {
        Ok(Admin {
            principal: caller.clone(),
        })
    } else {
        Err(Error::Forbidden(detail::ADMIN_REQUIRED.into()))
    }
}

/// 403 `This endpoint requires an interactive session, not a PAT` for a PAT.
pub fn require_session(caller: &Principal) -> Result<Interactive, Error> {
    match caller.session_id() {
        Some(session_id) => Ok(Interactive {
            principal: caller.clone(),
            session_id,
        }),
        None => Err(Error::Forbidden(detail::SESSION_REQUIRED.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Credential;

    fn caller(role: Role, pat: bool) -> Principal {
        let credential = if pat {
            Credential::Pat {
                token_id: Uuid::new_v4(),
                expires_at: None,
            }
        } else {
            Credential::Session {
                session_id: Uuid::new_v4(),
                expires_at: chrono::Utc::now(),
            }
        };
        Principal {
            user_id: Uuid::new_v4(),
            email: "a@b.c".into(),
            role,
            credential,
        }
    }

    #[test]
    fn only_admins_get_the_admin_capability() {
        assert!(require_admin(&caller(Role::Admin, true)).is_ok());
        for role in [Role::Viewer, Role::Analyst, Role::KmAdmin] {
            let err = require_admin(&caller(role, false)).unwrap_err();
            assert!(matches!(err, Error::Forbidden(d) if d == "Admin access required"));
        }
    }

    #[test]
    fn pats_do_not_get_the_interactive_capability() {
        let session = caller(Role::Viewer, false);
        assert_eq!(
            require_session(&session).unwrap().session_id(),
            session.session_id().unwrap()
        );
        assert!(matches!(
            require_session(&caller(Role::Admin, true)),
            Err(Error::Forbidden(_))
        ));
    }
}
