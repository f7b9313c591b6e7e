// A real OpenID provider for the test suites: the certified `oidc-provider` package with one
// confidential client and test accounts. The Rust integration tests and the browser tests start
// it; its development login form accepts any password for the accounts below.
//
// Configuration: the JSON in $OIDC_CONFIG:
//   { "clientId", "clientSecret", "redirectUri",
//     "accounts": { "<login>": { "email", "email_verified", "name", "groups", ... } },
//     "claimsInIdToken": true,   // false: email, name and groups come from UserInfo only
//     "alg": "RS256" }           // the ID token signing algorithm (RS256, PS256, ES256, EdDSA)
// Prints `oidc-provider listening on <issuer>` once it serves. `PUT /test/accounts/<login>`
// replaces an account's claims.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_CONFIG ?? '{}');
const alg = config.alg ?? 'RS256';
const accounts = config.accounts ?? {};

function signingKey() {
  const options = {
    RS256: ['rsa', { modulusLength: 2048 }],
    PS256: ['rsa', { modulusLength: 2048 }],
    ES256: ['ec', { namedCurve: 'P-256' }],
    EdDSA: ['ed25519', {}],
  }[alg];
  if (!options) throw new Error(`unsupported alg ${alg}`);
  const { privateKey } = generateKeyPairSync(...options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `test-${alg}-${Date.now()}`, alg, use: 'sig' };
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.clientId,
    client_secret: config.clientSecret,
    redirect_uris: [config.redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
  }],
  jwks: { keys: [signingKey()] },
  cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    // Keycloak and Okta add a groups claim to the profile scope with a mapper; so does this.
    profile: ['name', 'groups', 'roles'],
  },
  conformIdTokenClaims: config.claimsInIdToken === false,
  // A first-party client: consent is implied, as companies configure for their own apps.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  pkce: { required: () => true },
});
// Quiet: the tests read this process's output for the start line only.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// A test's hand on the provider: `PUT /test/accounts/<login>` with the account's new claims
// (one person whose groups change between sign-ins keeps one `sub`, the login).
const callback = provider.callback();
server.on('request', (req, res) => {
  const match = req.method === 'PUT' && req.url.match(/^\/test\/accounts\/([^/?]+)$/);
  if (!match) return callback(req, res);
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    accounts[decodeURIComponent(match[1])] = JSON.parse(body);
    res.writeHead(204).end();
  });
});
console.log(`oidc-provider listening on ${issuer}`);
