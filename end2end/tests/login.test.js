import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, openPage, serverAndBrowser } from './harness.js';

const env = serverAndBrowser();

async function signIn(page, password) {
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

test('log in through the form, see the dashboard, log out, and / sends you to /login', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await openPage(context);
  await page.goto(`${env.server.baseUrl}/`);
  assert.match(page.url(), /\/login\?next=%2F$/);
  await page.waitForSelector('body[data-hydrated]');

  await signIn(page, ADMIN_PASSWORD);
  await page.waitForURL(`${env.server.baseUrl}/`);
  assert.equal(await page.textContent('[data-test=me-email]'), ADMIN_EMAIL);
  assert.equal(await page.textContent('[data-test=me-role]'), 'admin');

  await page.waitForSelector('body[data-hydrated]');
  await page.click('[data-test=logout]');
  await page.waitForURL(/\/login/);
  await page.goto(`${env.server.baseUrl}/`);
  assert.match(page.url(), /\/login\?next=%2F$/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a wrong password shows an inline error without leaving the page', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await openPage(context);
  await page.goto(`${env.server.baseUrl}/login`);
  await page.waitForSelector('body[data-hydrated]');
  const before = page.url();

  await signIn(page, 'definitely-wrong');
  const error = await page.waitForSelector('[data-test=login-error]');
  assert.equal(await error.textContent(), 'Invalid email or password');
  // Hydrated: the error came from the server function, not from a form post and redirect.
  assert.equal(page.url(), before);
  // The failed RPC logs a 401 in the console; that is expected here.
  assert.ok(problems.every((p) => p.includes('401')), problems.join('\n'));
  await context.close();
});

test('with JavaScript disabled the login form still works', async () => {
  const context = await env.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${env.server.baseUrl}/`);
  assert.match(page.url(), /\/login\?next=%2F$/);

  await signIn(page, 'still-wrong-password');
  await page.waitForURL(/error=credentials/);
  assert.equal(await page.textContent('[data-test=login-error]'), 'Invalid email or password');

  await signIn(page, ADMIN_PASSWORD);
  await page.waitForURL(`${env.server.baseUrl}/`);
  assert.equal(await page.textContent('[data-test=me-email]'), ADMIN_EMAIL);
  await context.close();
});
