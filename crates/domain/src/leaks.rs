//! Leaked tokens (`API.md` §14): a secret scanner or an admin reports strings found where they
//! should not be, and every active personal access token among them is revoked at once.

use crate::audit;
use crate::cache::Invalidation;
use crate::error::{Error, detail};
use crate::pat;
use crate::policy::Admin;
use crate::principal::AuthState;
use crate::services::{ClientInfo, Services};
use crate::store::TokenRecord;
use chrono::Utc;
use da_types::detail::AuthFailure;
use da_types::{LeakOutcome, LeakReport, TokenStatus};
use subtle::ConstantTimeEq;

/// The most strings one report may carry.
pub const REPORT_MAX: usize = 1000;
const SOURCE_MAX_CHARS: usize = 200;

/// Who reports: an admin, or a scanner holding `DA_LEAK_REPORT_SECRET`.
#[derive(Debug, Clone)]
pub enum LeakReporter {
    Admin(Admin),
    Scanner,
}

impl Services {
    /// Who reports to `POST /api/tokens/leaked`: the scanner when the Bearer credential is
    /// `DA_LEAK_REPORT_SECRET`, else the request's caller if an admin (`API.md` §1 otherwise).
    pub fn leak_reporter(
        &self,
        bearer: Option<&str>,
        auth: &AuthState,
    ) -> Result<LeakReporter, Error> {
        if let (Some(secret), Some(presented)) = (&self.inner.config.leak_report_secret, bearer)
            && bool::from(secret.as_bytes().ct_eq(presented.as_bytes()))
        {
            return Ok(LeakReporter::Scanner);
        }
        match auth {
            AuthState::Authenticated(principal) => Ok(LeakReporter::Admin(
                crate::policy::require_admin(principal)?,
            )),
            AuthState::Refused(why) => Err(Error::Unauthenticated(*why)),
            AuthState::Anonymous => Err(Error::Unauthenticated(AuthFailure::MissingCredential)),
        }
    }

    /// `POST /api/tokens/leaked`: revokes every active PAT in the report (audit
    /// `token.leak_revoke`), tells each owner by mail when mail is set up; strings that are not
    /// well-formed tokens are counted and ignored.
    pub async fn report_leaked(
        &self,
        reporter: &LeakReporter,
        report: &LeakReport,
        client: &ClientInfo,
    ) -> Result<LeakOutcome, Error> {
        if report.tokens.len() > REPORT_MAX {
            return Err(Error::invalid(detail::LEAK_REPORT_TOO_MANY));
        }
        let source: Option<String> = report.source.as_deref().map(|s| {
            s.trim()
                .chars()
                .filter(|c| !da_types::validation::is_forbidden_char(*c))
                .take(SOURCE_MAX_CHARS)
                .collect()
        });
        let mut hashes: Vec<String> = report
            .tokens
            .iter()
            .map(|t| t.trim())
            .filter(|t| pat::is_well_formed(t))
            .map(pat::hash)
            .collect();
        hashes.sort();
        hashes.dedup();
        let now = Utc::now();
        let mut revoked = Vec::new();
        for hash in hashes {
            let Some(token) = self.inner.store.token_by_hash(&hash).await? else {
                continue;
            };
            if crate::tokens::status(&token, now) != TokenStatus::Active {
                continue;
            }
            let mut row = audit::record(audit::TOKEN_LEAK_REVOKE, format!("token:{}", token.id))
                .from_ip(client.ip.as_deref())
                .with_params(serde_json::json!({
                    "name": token.name,
                    "prefix": token.prefix,
                    "owner_id": token.user_id,
                    "source": source,
                    "reported_by": match reporter {
                        LeakReporter::Admin(_) => "admin",
                        LeakReporter::Scanner => "scanner",
                    },
                }));
            if let LeakReporter::Admin(admin) = reporter {
                row = row.by_principal(admin.principal());
            }
            if self.inner.store.revoke_token(token.id, now, &row).await? {
                self.invalidate(&[Invalidation::Token(token.id)]).await;
                revoked.push(token);
            }
        }
        let count = revoked.len() as u64;
        if count > 0 {
            tracing::warn!(revoked = count, source = ?source, "revoked leaked tokens");
            self.tell_owners(revoked, source);
        }
        Ok(LeakOutcome {
            checked: report.tokens.len() as u64,
            revoked: count,
        })
    }

    /// Mails each owner about their revoked tokens, off the request path.
    fn tell_owners(&self, revoked: Vec<TokenRecord>, source: Option<String>) {
        let Some(mailer) = self.inner.mailer.clone() else {
            return;
        };
        let services = self.clone();
        tokio::spawn(async move {
            for token in revoked {
                let owner = match services.inner.store.user_by_id(token.user_id).await {
                    Ok(Some(owner)) => owner,
                    _ => continue,
                };
                let (subject, body) = leak_mail(&token, source.as_deref());
                let sent = tokio::time::timeout(
                    crate::links::MAIL_TIMEOUT,
                    mailer.send(&owner.email, subject, &body),
                )
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    tracing::warn!(token = %token.id, "could not mail the owner of a leaked token");
                }
            }
        });
    }
}

fn leak_mail(token: &TokenRecord, source: Option<&str>) -> (&'static str, String) {
    let place = match source {
        Some(source) if !source.is_empty() => format!(" It was found in: {source}."),
        _ => String::new(),
    };
    (
        "Your da access token was revoked",
        format!(
            "Your personal access token \"{}\" ({}…) was reported as leaked and has been revoked.{place}\n\n\
             Scripts that use it will now be refused. Create a new token, keep it out of files that \
             others can read (use an environment variable or a secret store), and replace the old \
             one wherever it was used.\n",
            token.name, token.prefix
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_names_the_token_but_never_the_secret() {
        let now = Utc::now();
        let token = TokenRecord {
            id: uuid::Uuid::nil(),
            user_id: uuid::Uuid::nil(),
            name: "ci deploy".into(),
            prefix: "da_pat_AbCdE".into(),
            token_hash: "f".repeat(64),
            role: None,
            created_at: now,
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        };
        let (_, body) = leak_mail(&token, Some("github.com/acme/repo"));
        assert!(body.contains("\"ci deploy\" (da_pat_AbCdE…)"));
        assert!(body.contains("github.com/acme/repo"));
        assert!(!body.contains(&token.token_hash));
    }
}
