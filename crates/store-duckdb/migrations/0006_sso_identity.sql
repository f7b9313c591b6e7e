-- The identity a single sign-on account is linked to: the provider (`iss`) and its subject
-- (`sub`) at the first SSO sign-in. A later sign-in at the same provider with the same email
-- but another subject (an address the provider gave to someone else) is refused.

ALTER TABLE users ADD COLUMN oidc_issuer VARCHAR;
ALTER TABLE users ADD COLUMN oidc_subject VARCHAR;
