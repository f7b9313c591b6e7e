import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { serverAndBrowser, signInAs } from './harness.js';

const env = serverAndBrowser();

/// `da login --device` with a private config dir: the process, and the approval URL it shows.
async function startDeviceLogin(baseUrl) {
  const configDir = mkdtempSync(join(tmpdir(), 'da-e2e-cli-'));
  const da = join(dirname(process.env.DA_SERVER_BIN), 'da');
  const child = spawn(da, ['login', '--device', '--server', baseUrl], {
    env: { PATH: process.env.PATH, HOME: configDir, DA_CONFIG_DIR: configDir, HOSTNAME: 'e2e-box' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('da showed no code in 30 s')), 30_000);
    createInterface({ input: child.stderr }).on('line', (line) => {
      const match = line.match(/(http\S+\/device\?code=\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    async result() {
      const code = await exited;
      rmSync(configDir, { recursive: true, force: true });
      return { code, stdout };
    },
  };
}

test('a CLI sign-in approved on /device gives the waiting da its session', async () => {
  const login = await startDeviceLogin(env.server.baseUrl);
  const target = new URL(login.url);
  const code = target.searchParams.get('code');
  const context = await env.browser.newContext();
  // Not signed in yet: the page sends the browser to sign in first, and back.
  const { page, problems } = await signInAs(env.server.baseUrl, context, undefined, undefined,
    `${target.pathname}${target.search}`);
  assert.equal(await page.locator('[data-test=device-user-code]').textContent(), code);
  assert.equal(await page.locator('[data-test=device-client]').textContent(), 'da CLI on e2e-box');
  assert.equal(await page.locator('[data-test=device-ip]').textContent(), '127.0.0.1');
  await page.click('[data-test=device-approve]');
  await page.locator('[data-test=device-approved]').waitFor();

  const { code: exitCode, stdout } = await login.result();
  assert.equal(exitCode, 0);
  assert.match(stdout, /^Logged in to .* as admin@example\.com \(admin\)/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('/device refuses an unknown code and takes a typed one', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await signInAs(env.server.baseUrl, context, undefined, undefined,
    '/device?code=BCDF-GHJK');
  assert.equal(await page.locator('[data-test=device-error]').textContent(), 'Invalid or expired code');

  const login = await startDeviceLogin(env.server.baseUrl);
  const code = new URL(login.url).searchParams.get('code');
  await page.fill('#device-code', code.toLowerCase());
  await page.click('[data-test=device-code-form] button[type=submit]');
  await page.locator('[data-test=device-request]').waitFor();
  await page.click('[data-test=device-deny]');
  await page.locator('[data-test=device-denied]').waitFor();
  const { code: exitCode } = await login.result();
  assert.equal(exitCode, 3, 'denied: not signed in');
  // The page for an unknown code is answered with its 400.
  assert.ok(problems.every((p) => p.includes('400')), problems.join('\n'));
  await context.close();
});
