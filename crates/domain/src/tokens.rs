//! Personal access tokens (`API.md` §1, §6): issuing, listing, revoking, and the hot path that
//! resolves a token on every request without touching the database on a cache hit.

use crate::audit;
use crate::cache::{CachedToken, Invalidation};
use crate::error::{Error, detail};
use crate::params::{
    label, parse_filter_id, parse_limit, parse_offset, parse_role, person_filter, seconds,
};
use crate::pat;
use crate::policy::{Admin, Interactive};
use crate::principal::{Credential, Principal};
use crate::services::{ClientInfo, Services};
use crate::store::{AuditRecord, TokenFilter, TokenRecord};
use chrono::{DateTime, Duration, Utc};
use da_types::detail::AuthFailure;
use da_types::paging::TOKENS_MAX;
use da_types::{
    AdminTokenItem, AdminTokenPage, CreateTokenRequest, CreatedToken, TokenItem, TokenListParams,
    TokenStatus,
};
use uuid::Uuid;

const DEFAULT_DAYS: i64 = 90;
const MAX_DAYS: i64 = 3650;
const MAX_TTL_SECONDS: i64 = 315_360_000;

pub fn status(token: &TokenRecord, now: DateTime<Utc>) -> TokenStatus {
    if token.revoked_at.is_some() {
        TokenStatus::Revoked
    } else if token.expires_at.is_some_and(|at| at <= now) {
        TokenStatus::Expired
    } else {
        TokenStatus::Active
    }
}

pub fn token_view(token: &TokenRecord, now: DateTime<Utc>) -> TokenItem {
    TokenItem {
        id: token.id,
        name: token.name.clone(),
        prefix: token.prefix.clone(),
        role: token.role,
        created_at: seconds(token.created_at),
        expires_at: token.expires_at.map(seconds),
        last_used_at: token.last_used_at.map(seconds),
        last_used_ip: token.last_used_ip.clone(),
        revoked_at: token.revoked_at.map(seconds),
        status: status(token, now),
    }
}

/// The token's expiry from the request's lifetime fields (`None`: never), per `API.md` §6.
fn expiry(
    request: &CreateTokenRequest,
    now: DateTime<Utc>,
    max_days: Option<i64>,
) -> Result<Option<DateTime<Utc>>, Error> {
    let capped = |days_limit: i64| format!("expires_in_days must not exceed {days_limit}");
    if let Some(ttl) = &request.ttl_seconds {
        let seconds = ttl
            .as_i64()
            .filter(|s| (1..=MAX_TTL_SECONDS).contains(s))
            .ok_or_else(|| Error::invalid(detail::TOKEN_TTL_RANGE))?;
        if let Some(max) = max_days
            && seconds > max * 86_400
        {
            return Err(Error::invalid(capped(max)));
        }
        return Ok(Some(now + Duration::seconds(seconds)));
    }
    let days = match &request.expires_in_days {
        None => Some(DEFAULT_DAYS.min(max_days.unwrap_or(DEFAULT_DAYS))),
        Some(None) => None,
        Some(Some(number)) => {
            // Integers only; anything that is not a positive whole number says so.
            let days = match (number.as_i64(), number.as_u64()) {
                (Some(days), _) => days,
                (None, Some(_)) => i64::MAX,
                (None, None) => return Err(Error::invalid(detail::TOKEN_DAYS_NOT_POSITIVE)),
            };
            if days <= 0 {
                return Err(Error::invalid(detail::TOKEN_DAYS_NOT_POSITIVE));
            }
            if days > MAX_DAYS {
                return Err(Error::invalid(detail::TOKEN_DAYS_TOO_MANY));
            }
            Some(days)
        }
    };
    match (days, max_days) {
        (None, Some(max)) => Err(Error::invalid(capped(max))),
        (Some(days), Some(max)) if days > max => Err(Error::invalid(capped(max))),
        (days, _) => Ok(days.map(|d| now + Duration::days(d))),
    }
}

impl Services {
    /// `DA_PAT_MAX_DAYS`, for forms that offer lifetimes.
    pub fn pat_max_days(&self) -> Option<i64> {
        self.inner.config.pat_max_days
    }

    /// The PAT half of [`Services::authenticate`], in the order of `API.md` §1.
    pub(crate) async fn authenticate_pat(
        &self,
        credential: &str,
        ip: Option<&str>,
    ) -> Result<Principal, Error> {
        // Garbage never reaches the store.
        if !pat::is_well_formed(credential) {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        let token = self
            .cached_token(&pat::hash(credential))
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::InvalidToken))?;
        let user = self
            .cached_user(token.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserNotFound))?;
        if !user.active {
            return Err(Error::Unauthenticated(AuthFailure::AccountDeactivated));
        }
        if token.revoked {
            return Err(Error::Unauthenticated(AuthFailure::TokenRevoked));
        }
        let now = Utc::now();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        self.inner.token_activity.note(token.id, now, ip);
        if let Some(previous_ip) = self.inner.cache.note_token_ip(token.id, ip) {
            self.audit_new_ip(&token, &user.email, ip, &previous_ip);
        }
        // A token never acts above its owner's current effective role.
        let owner_role = self.effective_role(&user).await?;
        Ok(Principal {
            user_id: token.user_id,
            email: user.email,
            role: token.role.map_or(owner_role, |role| role.min(owner_role)),
            credential: Credential::Pat {
                token_id: token.id,
                expires_at: token.expires_at,
            },
        })
    }

    /// `token.first_use_new_ip`, written off the request path.
    fn audit_new_ip(&self, token: &CachedToken, email: &str, ip: Option<&str>, previous: &str) {
        let mut row = audit::record(audit::TOKEN_FIRST_USE_NEW_IP, format!("token:{}", token.id))
            .by(token.user_id, email)
            .from_ip(ip)
            .with_params(serde_json::json!({ "ip": ip, "previous_ip": previous }));
        row.credential = Some(crate::store::CredentialRef {
            kind: da_types::CredentialKind::Pat,
            id: token.id,
        });
        let store = self.inner.store.clone();
        tokio::spawn(async move {
            if let Err(err) = store.insert_audit(&row).await {
                tracing::warn!(error = %err, "could not audit a token's new IP");
            }
        });
    }

    /// `POST /auth/tokens` (interactive sessions only): the secret is in the answer, once.
    pub async fn create_token(
        &self,
        caller: &Interactive,
        request: &CreateTokenRequest,
        client: &ClientInfo,
    ) -> Result<CreatedToken, Error> {
        let caller = caller.principal();
        let name = label(&request.name)?;
        let role = request.role.as_deref().map(parse_role).transpose()?;
        if role.is_some_and(|role| role > caller.role) {
            return Err(Error::invalid(detail::TOKEN_ROLE_TOO_HIGH));
        }
        let now = Utc::now();
        let expires_at = expiry(request, now, self.inner.config.pat_max_days)?;
        let secret = pat::generate().map_err(|e| Error::Internal(e.to_string()))?;
        let token = TokenRecord {
            id: Uuid::new_v4(),
            user_id: caller.user_id,
            name,
            prefix: pat::prefix(&secret),
            token_hash: pat::hash(&secret),
            role,
            created_at: now,
            expires_at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        };
        let row = audit::record(audit::TOKEN_CREATE, format!("token:{}", token.id))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "name": token.name,
                "prefix": token.prefix,
                "role": token.role,
                "expires_at": token.expires_at.map(seconds),
            }));
        // Taken before the write: a revoke that lands right after the commit must win.
        let ticket = self.inner.cache.ticket();
        self.inner.store.create_token(&token, &row).await?;
        self.inner
            .cache
            .fill_token(&ticket, &token.token_hash, &token);
        Ok(CreatedToken {
            item: token_view(&token, now),
            token: secret,
        })
    }

    /// `GET /auth/tokens`: the caller's tokens, newest first.
    pub async fn my_tokens(&self, caller: &Principal) -> Result<Vec<TokenItem>, Error> {
        self.flush_activity().await?;
        let now = Utc::now();
        let tokens = self.inner.store.tokens_of_user(caller.user_id).await?;
        Ok(tokens.iter().map(|t| token_view(t, now)).collect())
    }

    /// One of the caller's tokens; someone else's is as absent as an unknown one.
    async fn own_token(&self, caller: &Principal, id: Uuid) -> Result<TokenRecord, Error> {
        self.inner
            .store
            .token_by_id(id)
            .await?
            .filter(|t| t.user_id == caller.user_id)
            .ok_or_else(|| Error::NotFound(detail::TOKEN_NOT_FOUND.into()))
    }

    /// `GET /auth/tokens/{id}`.
    pub async fn my_token(&self, caller: &Principal, id: Uuid) -> Result<TokenItem, Error> {
        self.flush_activity().await?;
        Ok(token_view(&self.own_token(caller, id).await?, Utc::now()))
    }

    /// `DELETE /auth/tokens/{id}` (a token may revoke itself).
    pub async fn revoke_my_token(
        &self,
        caller: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let token = self.own_token(caller, id).await?;
        let row = audit::record(audit::TOKEN_REVOKE, format!("token:{id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "name": token.name, "prefix": token.prefix }));
        self.revoke(id, &row).await
    }

    async fn revoke(&self, id: Uuid, row: &AuditRecord) -> Result<(), Error> {
        if !self.inner.store.revoke_token(id, Utc::now(), row).await? {
            return Err(Error::NotFound(detail::TOKEN_NOT_FOUND.into()));
        }
        self.invalidate(&[Invalidation::Token(id)]).await;
        Ok(())
    }

    /// `GET /auth/admin/tokens`: every token, newest first, with owner.
    pub async fn all_tokens(
        &self,
        _admin: &Admin,
        params: &TokenListParams,
    ) -> Result<AdminTokenPage, Error> {
        let (user_id, owner_contains) = person_filter(
            parse_filter_id(params.user_id.as_deref(), "user_id")?,
            params.owner.as_deref(),
        );
        let status = match params.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("active") => Some(TokenStatus::Active),
            Some("expired") => Some(TokenStatus::Expired),
            Some("revoked") => Some(TokenStatus::Revoked),
            Some(_) => {
                return Err(Error::invalid(
                    "status must be one of active, expired, revoked",
                ));
            }
        };
        let limit = parse_limit(params.limit.as_deref(), TOKENS_MAX, TOKENS_MAX)?;
        let offset = parse_offset(params.offset.as_deref())?;
        self.flush_activity().await?;
        let now = Utc::now();
        let filter = TokenFilter {
            user_id,
            owner_contains,
            status,
            now,
            limit,
            offset,
        };
        let (tokens, total) = self.inner.store.list_tokens(&filter).await?;
        Ok(AdminTokenPage {
            tokens: tokens
                .iter()
                .map(|(token, email)| AdminTokenItem {
                    item: token_view(token, now),
                    user_id: token.user_id,
                    user_email: email.clone(),
                })
                .collect(),
            total,
        })
    }

    /// `DELETE /auth/admin/tokens/{id}`.
    pub async fn admin_revoke_token(
        &self,
        admin: &Admin,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let token = self
            .inner
            .store
            .token_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound(detail::TOKEN_NOT_FOUND.into()))?;
        let row = audit::record(audit::TOKEN_ADMIN_REVOKE, format!("token:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "owner_id": token.user_id,
                "name": token.name,
                "prefix": token.prefix,
            }));
        self.revoke(id, &row).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(days: Option<Option<serde_json::Number>>, ttl: Option<i64>) -> CreateTokenRequest {
        CreateTokenRequest {
            name: "t".into(),
            expires_in_days: days,
            ttl_seconds: ttl.map(serde_json::Number::from),
            role: None,
        }
    }

    fn days(n: i64) -> Option<Option<serde_json::Number>> {
        Some(Some(serde_json::Number::from(n)))
    }

    fn message(result: Result<Option<DateTime<Utc>>, Error>) -> String {
        match result {
            Err(Error::Invalid(detail)) => detail,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn lifetimes_follow_the_contract() {
        let now = Utc::now();
        assert_eq!(
            expiry(&request(None, None), now, None).unwrap(),
            Some(now + Duration::days(90))
        );
        assert_eq!(expiry(&request(Some(None), None), now, None).unwrap(), None);
        assert_eq!(
            expiry(&request(days(7), Some(60)), now, None).unwrap(),
            Some(now + Duration::seconds(60)),
            "ttl_seconds wins"
        );
        for bad in [0, -5] {
            assert_eq!(
                message(expiry(&request(days(bad), None), now, None)),
                "expires_in_days must be a positive integer"
            );
        }
        for big in [3651, 10_000_000_000] {
            assert_eq!(
                message(expiry(&request(days(big), None), now, None)),
                "expires_in_days must not exceed 3650 (10 years)"
            );
        }
        let fraction = Some(Some(serde_json::Number::from_f64(1.5).unwrap()));
        assert_eq!(
            message(expiry(&request(fraction, None), now, None)),
            "expires_in_days must be a positive integer"
        );
        for ttl in [0, 315_360_001] {
            assert_eq!(
                message(expiry(&request(None, Some(ttl)), now, None)),
                "ttl_seconds must be between 1 and 315360000"
            );
        }
    }

    #[test]
    fn an_admin_cap_forbids_longer_and_unlimited_tokens() {
        let now = Utc::now();
        assert_eq!(
            message(expiry(&request(Some(None), None), now, Some(30))),
            "expires_in_days must not exceed 30"
        );
        assert_eq!(
            message(expiry(&request(days(31), None), now, Some(30))),
            "expires_in_days must not exceed 30"
        );
        assert_eq!(
            expiry(&request(None, None), now, Some(30)).unwrap(),
            Some(now + Duration::days(30)),
            "the default shrinks to the cap"
        );
        assert!(expiry(&request(days(30), None), now, Some(30)).is_ok());
    }
}
