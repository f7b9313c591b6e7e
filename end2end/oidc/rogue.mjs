// A misbehaving OpenID provider for the tests: it runs the authorization-code flow (PKCE and
// client authentication checked, like a real one) but issues the ID token `mode` says, to show
// that da refuses what a real provider never sends. No login form: /authorize answers at once.
//
// Configuration: the JSON in $OIDC_CONFIG: { "clientId", "clientSecret", "redirectUri",
//   "mode", "email", "reusableCodes" } (reusableCodes: a code may be redeemed again, as a lax
//   provider might allow; da must not rely on the provider for that). Modes:
//   ok             a valid token (the baseline)
//   wrong-nonce    signed correctly, with another nonce
//   foreign-key    signed by a key the JWKS does not have, under the published key's kid
//   unknown-kid    signed by a key never published, with its own kid
//   rotate         signed by a key the JWKS publishes only from its second fetch on
//   alg-none       `alg: none`, no signature
//   hs256          HMAC-signed with the client secret
//   wrong-aud      for another client
//   expired        expired an hour ago
//   no-email       without an email claim
//   unverified     email_verified: false
//   token-error    the token endpoint refuses the code
// GET /stats tells how often the JWKS and the token endpoint were asked, and whether PKCE held.
// Prints `oidc-provider listening on <issuer>` once it serves.

import { createHash, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';

const config = JSON.parse(process.env.OIDC_CONFIG ?? '{}');
const mode = config.mode ?? 'ok';
const email = config.email ?? 'rogue@example.com';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const newKey = (kid) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
};
const published = newKey('published');
const stranger = newKey('published'); // same kid, other key
const never = newKey('never-published');
const rotated = newKey('rotated');

const stats = { jwks: 0, token: 0, pkce: null, clientAuth: null };
const pending = new Map(); // code -> { nonce, challenge }

function jwt(header, claims, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  if (header.alg === 'none') return `${input}.`;
  if (header.alg === 'HS256') {
    return `${input}.${b64url(createHmac('sha256', config.clientSecret).update(input).digest())}`;
  }
  return `${input}.${b64url(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

function idToken(issuer, nonce) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer, sub: 'rogue-1', aud: config.clientId, iat: now, exp: now + 300, nonce,
    email, email_verified: true, name: 'Rogue Account',
  };
  let key = published;
  let alg = 'ES256';
  switch (mode) {
    case 'wrong-nonce': claims.nonce = 'not-this-sign-ins-nonce'; break;
    case 'foreign-key': key = stranger; break;
    case 'unknown-kid': key = never; break;
    case 'rotate': key = rotated; break;
    case 'alg-none': alg = 'none'; break;
    case 'hs256': alg = 'HS256'; break;
    case 'wrong-aud': claims.aud = 'another-client'; break;
    case 'expired': claims.exp = now - 3600; claims.iat = now - 7200; break;
    case 'no-email': delete claims.email; delete claims.email_verified; break;
    case 'unverified': claims.email_verified = false; break;
    default: break;
  }
  return jwt({ alg, typ: 'JWT', kid: key.kid }, claims, key.privateKey);
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const server = createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    return send(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  }
  if (url.pathname === '/jwks') {
    stats.jwks += 1;
    const keys = [published.jwk];
    if (mode === 'rotate' && stats.jwks > 1) keys.push(rotated.jwk);
    return send(res, 200, { keys });
  }
  if (url.pathname === '/stats') return send(res, 200, stats);
  if (url.pathname === '/authorize') {
    const p = url.searchParams;
    const code = b64url(randomBytes(16));
    pending.set(code, { nonce: p.get('nonce'), challenge: p.get('code_challenge'), method: p.get('code_challenge_method') });
    const back = new URL(config.redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', p.get('state') ?? '');
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      stats.token += 1;
      const form = new URLSearchParams(body);
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`).toString('base64')}`;
      stats.clientAuth = req.headers.authorization === expected;
      const flow = pending.get(form.get('code'));
      if (!config.reusableCodes) pending.delete(form.get('code'));
      if (!flow || !stats.clientAuth || mode === 'token-error') {
        return send(res, 400, { error: 'invalid_grant' });
      }
      const verifier = form.get('code_verifier') ?? '';
      stats.pkce = flow.method === 'S256'
        && createHash('sha256').update(verifier).digest('base64url') === flow.challenge;
      if (!stats.pkce) return send(res, 400, { error: 'invalid_grant', error_description: 'PKCE' });
      return send(res, 200, {
        access_token: b64url(randomBytes(16)), token_type: 'Bearer', expires_in: 300,
        id_token: idToken(issuer, flow.nonce),
      });
    });
    return undefined;
  }
  return send(res, 404, { error: 'not_found' });
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(`oidc-provider listening on ${issuer}`);
