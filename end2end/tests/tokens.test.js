import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, openPage, serverAndBrowser } from './harness.js';

const env = serverAndBrowser();

async function me(token) {
  return fetch(`${env.server.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
}

test('a token is shown once, works from a script, and revoking it in the UI stops it', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await openPage(context);
  await page.goto(`${env.server.baseUrl}/login?next=%2Ftokens`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${env.server.baseUrl}/tokens`);
  await page.waitForSelector('body[data-hydrated]');

  await page.fill('[data-test=token-name]', 'nightly CI');
  await page.selectOption('[data-test=token-expiry]', '30');
  await page.click('[data-test=token-submit]');
  const secretField = page.locator('[data-test=token-secret]');
  await secretField.waitFor();
  const token = await secretField.inputValue();
  assert.match(token, /^da_pat_[0-9A-Za-z]{38}$/);
  assert.equal(
    await page.locator('[data-test=token-export]').textContent(),
    `export DA_SERVER=${env.server.baseUrl}\nexport DA_TOKEN=${token}`,
  );
  // The secret has the focus, ready to copy; the form is empty for the next token.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.test), 'token-secret');
  assert.equal(await page.locator('[data-test=token-name]').inputValue(), '');
  await page.locator('tr[data-name="nightly CI"]').waitFor();

  // Shown once: a reload has the token in the list but the secret nowhere.
  await page.reload();
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await page.locator('[data-test=token-secret]').count(), 0);
  assert.ok(!(await page.content()).includes(token));
  const row = page.locator('tr[data-name="nightly CI"]');
  assert.equal(await row.locator('[data-test=token-status]').textContent(), 'active');

  // A script uses it.
  const ok = await me(token);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).credential.kind, 'pat');

  // Revoke in the UI (with confirmation); the script's next call fails.
  await row.locator('[data-test=revoke]').click();
  const revoked = page.waitForResponse((r) => r.url().includes('/rpc/tokens/revoke'));
  await row.locator('[data-test=confirm-revoke]').click();
  assert.equal((await revoked).status(), 200);
  await page.waitForFunction(() =>
    document.querySelector('tr[data-name="nightly CI"] [data-test=token-status]')?.textContent === 'revoked');
  const refused = await me(token);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).detail, 'Token revoked');

  // The admin inventory lists it with its owner.
  await page.goto(`${env.server.baseUrl}/admin/tokens`);
  await page.waitForSelector('[data-test=all-tokens-table]');
  assert.equal(await page.locator('[data-test=all-token-row]').count(), 1);
  assert.deepEqual(problems, []);
  await context.close();
});
