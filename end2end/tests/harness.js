// Starts a real da-server (the binary from DA_SERVER_BIN) on a free loopback port with a fresh
// data dir and a seeded admin, and launches Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'admin-password-1';

export async function startServer() {
  const bin = process.env.DA_SERVER_BIN;
  if (!bin) throw new Error('DA_SERVER_BIN must name the da-server binary (./dev test sets it)');
  const dataDir = mkdtempSync(join(tmpdir(), 'da-e2e-'));
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      DA_BIND: '127.0.0.1:0',
      DA_DATA_DIR: dataDir,
      DA_SITE_DIR: process.env.DA_SITE_DIR ?? '',
      DA_ADMIN_EMAIL: ADMIN_EMAIL,
      DA_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DA_LOG: 'warn',
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
  await page.waitForURL(`${baseUrl}${next}`);
  await page.waitForSelector('body[data-hydrated]');
  return { page, problems };
}
