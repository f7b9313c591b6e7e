import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN_EMAIL, ADMIN_PASSWORD, openPage, serverAndBrowser } from './harness.js';

const env = serverAndBrowser();

test('/install shows visitors how to get the CLI, with the real checksum', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await openPage(context);
  const response = await page.goto(`${env.server.baseUrl}/install`);
  assert.equal(response.status(), 200, 'public page, no redirect to /login');
  assert.equal(new URL(page.url()).pathname, '/install');
  await page.waitForSelector('body[data-hydrated]');

  assert.equal(await page.locator('[data-test=install-server]').textContent(), env.server.baseUrl);
  assert.equal(await page.locator('[data-test=install-one-liner]').inputValue(),
    `curl -fsSL ${env.server.baseUrl}/cli/install.sh | sh`);
  const binary = await (await fetch(`${env.server.baseUrl}/cli/download`)).arrayBuffer();
  const sha256 = createHash('sha256').update(Buffer.from(binary)).digest('hex');
  assert.equal(await page.locator('[data-test=install-sha256]').textContent(), sha256);
  assert.match(await page.locator('[data-test=install-manual]').textContent(), /sha256sum -c/);
  // Visitors get a way to sign in, not a token button.
  assert.equal(await page.locator('[data-test=machine-token]').count(), 0);
  await page.locator('[data-test=install-sign-in]').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a signed-in user creates a token for this machine and sees the export line once', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await openPage(context);
  await page.goto(`${env.server.baseUrl}/login?next=%2Finstall`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${env.server.baseUrl}/install`);
  await page.waitForSelector('body[data-hydrated]');

  await page.fill('[data-test=machine-token-name]', 'build box');
  await page.click('[data-test=machine-token-create]');
  const field = page.locator('[data-test=machine-token-export]');
  await field.waitFor();
  // Both lines a machine needs: where the server is, and the token.
  const block = await field.textContent();
  const [serverLine, tokenLine] = block.split('\n');
  assert.equal(serverLine, `export DA_SERVER=${env.server.baseUrl}`);
  assert.match(tokenLine, /^export DA_TOKEN=da_pat_[0-9A-Za-z]{38}$/);
  const token = tokenLine.slice('export DA_TOKEN='.length);

  const me = await fetch(`${env.server.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).credential.kind, 'pat');

  // Shown once: after a reload it is gone; the token is listed under /tokens by name.
  await page.reload();
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await field.count(), 0);
  assert.ok(!(await page.content()).includes(token));
  await page.goto(`${env.server.baseUrl}/tokens`);
  await page.locator('tr[data-name="build box"]').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
