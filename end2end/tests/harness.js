// Starts a real da-server (the binary from DA_SERVER_BIN) on a free loopback port with a fresh
// data dir and a seeded admin, and launches Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'admin-password-1';

/// Starts a da-server. `env` adds settings; `port` fixes the port (for a server whose public URL
/// must be known before it starts, as single sign-on's redirect URI).
export async function startServer({ env = {}, port = 0 } = {}) {
  const bin = process.env.DA_SERVER_BIN;
  if (!bin) throw new Error('DA_SERVER_BIN must name the da-server binary (./dev test sets it)');
  const dataDir = mkdtempSync(join(tmpdir(), 'da-e2e-'));
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      DA_BIND: `127.0.0.1:${port}`,
      DA_DATA_DIR: dataDir,
      DA_SITE_DIR: process.env.DA_SITE_DIR ?? '',
      DA_ADMIN_EMAIL: ADMIN_EMAIL,
      DA_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DA_LOG: 'warn',
      // Browser tests sign in far more often than people do; the brakes have their own tests.
      DA_RATE_LIMIT_LOGIN: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('da-server did not start in 60 s')), 60_000);
    child.on('exit', (code) => reject(new Error(`da-server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^da-server listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    baseUrl,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/// A free loopback port (free when asked; a caller that loses a race to it starts again).
export async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/// Starts the real OpenID provider of `end2end/oidc/provider.mjs` with `config` (see its header).
export async function startProvider(config) {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'oidc', 'provider.mjs');
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, OIDC_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start in 30 s')), 30_000);
    child.on('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^oidc-provider listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    issuer,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

export const OIDC_CLIENT_ID = 'da-e2e';
export const OIDC_CLIENT_SECRET = 'da-e2e-client-secret-0123456789';

/// A provider with `accounts` and a da-server that signs in through it as "Test IdP".
/// Retries with another port should something take the chosen one in between.
export async function startSsoServer(accounts, env = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const provider = await startProvider({
      clientId: OIDC_CLIENT_ID,
      clientSecret: OIDC_CLIENT_SECRET,
      redirectUri: `${publicUrl}/auth/oidc/callback`,
      accounts,
    });
    try {
      const server = await startServer({
        port,
        env: {
          DA_PUBLIC_URL: publicUrl,
          DA_OIDC_ISSUER: provider.issuer,
          DA_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
          DA_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
          DA_OIDC_NAME: 'Test IdP',
          ...env,
        },
      });
      return {
        ...server,
        provider,
        async stop() {
          await server.stop();
          await provider.stop();
        },
      };
    } catch (err) {
      lastError = err;
      await provider.stop();
    }
  }
  throw lastError;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync',
    ],
  });
}

/// Opens a page and collects console errors and CSP violations, which fail the test.
export async function openPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => problems.push(String(err)));
  return { page, problems };
}

/// Starts one server and one browser for the test file, and stops them after it.
/// Returns a live view: `env.server` and `env.browser` are set once `before` has run.
export function serverAndBrowser() {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/// Calls the REST API as `token` (a session JWT or a PAT); returns the response.
export async function api(baseUrl, token, method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/// A session JWT for `email` from `POST /auth/token`.
export async function apiLogin(baseUrl, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  const response = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`login as ${email} failed: ${response.status}`);
  return (await response.json()).access_token;
}

/// Signs in through the login page in a fresh page of `context`; lands on `next` (default `/`).
export async function signInAs(baseUrl, context, email = ADMIN_EMAIL, password = ADMIN_PASSWORD, next = '/') {
  const { page, problems } = await openPage(context);
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  try {
    await page.waitForURL(`${baseUrl}${next}`, { timeout: 15_000 });
  } catch (err) {
    // Say why, when the page says it (a refused login), rather than only "timeout".
    const said = await page.locator('[data-test=login-error]').textContent().catch(() => null);
    throw new Error(`signing in as ${email} did not reach ${next}: ${said ?? err.message}`);
  }
  await page.waitForSelector('body[data-hydrated]');
  return { page, problems };
}
