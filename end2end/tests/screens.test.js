// The admin and account screens as people use them: paging, messages, filters, forms that
// start fresh, a revoked session mid-page, phone widths, and how the bundle is cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, api, apiLogin, openPage, serverAndBrowser, signInAs } from './harness.js';

const env = serverAndBrowser();
const base = () => env.server.baseUrl;
const rowOf = (page, email) => page.locator(`tr[data-email="${email}"]`);

async function openUsers(page) {
  await page.goto(`${base()}/admin/users`);
  await page.waitForSelector('body[data-hydrated]');
  await page.waitForSelector('[data-test=users-table]');
}

test('users and tokens page through more than one page', async () => {
  const token = await apiLogin(base());
  for (let n = 0; n < 60; n += 10) {
    await Promise.all([...Array(10).keys()].map((i) =>
      api(base(), token, 'POST', '/api/users', { email: `paged${n + i}@example.com` })));
    await Promise.all([...Array(10).keys()].map((i) =>
      api(base(), token, 'POST', '/auth/tokens', { name: `paged token ${n + i}` })));
  }
  const users = Number((await api(base(), token, 'GET', '/api/users?limit=1')).headers.get('x-total-count'));
  const tokens = Number((await api(base(), token, 'GET', '/auth/admin/tokens?limit=1')).headers.get('x-total-count'));
  assert.ok(users > 60 && tokens >= 60);

  const context = await env.browser.newContext();
  const { page, problems } = await signInAs(base(), context);
  await openUsers(page);
  assert.equal(await page.locator('[data-test=user-row]').count(), 50);
  assert.equal(await page.textContent('[data-test=user-count]'), `1–50 of ${users} users`);
  const next = page.locator('[data-test=page-next]');
  assert.equal((await next.textContent()).trim(), 'Next');
  assert.equal(await next.isEnabled(), true);
  await next.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=user-row]').length === n, users - 50);
  assert.equal(await page.textContent('[data-test=user-count]'), `51–${users} of ${users} users`);
  assert.equal(await next.isEnabled(), false);
  await page.click('[data-test=page-previous]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=user-row]').length === 50);

  await page.goto(`${base()}/admin/tokens`);
  await page.waitForSelector('body[data-hydrated]');
  await page.waitForSelector('[data-test=all-tokens-table]');
  assert.equal(await page.locator('[data-test=all-token-row]').count(), 50);
  await page.click('[data-test=page-next]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=all-token-row]').length === n, tokens - 50);
  assert.equal(await page.textContent('[data-test=token-count]'), `51–${tokens} of ${tokens} tokens`);
  // The owner filter takes part of an email, as you type.
  await page.fill('[data-test=tokens-owner]', 'nobody-like-this');
  await page.waitForSelector('[data-test=no-tokens]');
  assert.equal(await page.textContent('[data-test=no-tokens]'), 'No tokens match.');
  await page.fill('[data-test=tokens-owner]', 'ADMIN@');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=all-token-row]').length === 50);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a session revoked mid-page takes the browser to the sign-in page and back', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await signInAs(base(), context);
  await page.goto(`${base()}/admin/audit?action=user.`);
  await page.waitForSelector('body[data-hydrated]');
  // Another device (a PAT, which outlives sessions) signs every session of the admin out.
  const session = await apiLogin(base());
  const pat = (await (await api(base(), session, 'POST', '/auth/tokens', { name: 'revoker' })).json()).token;
  const me = await (await api(base(), pat, 'GET', '/api/me')).json();
  assert.equal((await api(base(), pat, 'DELETE', `/api/users/${me.id}/sessions`)).status, 204);

  // The next action's server function is refused with 401: the page goes to sign in, and
  // will come back to the same page, query included.
  await page.fill('[data-test=audit-actor]', 'admin');
  await page.waitForURL(`${base()}/login?next=%2Fadmin%2Faudit%3Faction%3Duser.`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', 'admin-password-1');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base()}/admin/audit?action=user.`);
  await page.waitForSelector('[data-test=audit-row]');
  // The refused call is the one thing the console may mention.
  assert.ok(problems.every((p) => p.includes('401')), problems.join('\n'));
  await context.close();
});

test('forms start fresh after a success, and a reused token name is pointed out', async () => {
  const context = await env.browser.newContext();
  const { page } = await signInAs(base(), context);
  await openUsers(page);
  await page.fill('[data-test=new-email]', 'first-invite@example.com');
  await page.fill('[data-test=new-password]', 'first-password-1');
  await page.check('[data-test=new-invite]');
  await page.click('[data-test=create-submit]');
  await page.waitForSelector('[data-test=hand-over]');
  assert.equal(await page.isChecked('[data-test=new-invite]'), false);
  assert.equal(await page.inputValue('[data-test=new-email]'), '');
  assert.equal(await page.inputValue('[data-test=new-password]'), '');
  await page.fill('[data-test=new-email]', 'second-no-invite@example.com');
  await page.fill('[data-test=new-password]', 'second-password-1');
  await page.click('[data-test=create-submit]');
  await page.waitForSelector('[data-test=feedback-ok]');
  assert.equal(await page.textContent('[data-test=feedback-ok]'), 'Created second-no-invite@example.com.');
  assert.equal(await page.locator('[data-test=hand-over]').count(), 0, 'no leftover link');
  const audit = await (await api(base(), await apiLogin(base()), 'GET', '/api/admin/audit?action_prefix=user.create&limit=2')).json();
  assert.equal(audit.rows[0].params.email, 'second-no-invite@example.com');
  assert.equal(audit.rows[0].params.invite, false);
  assert.equal(audit.rows[1].params.invite, true);

  await page.goto(`${base()}/tokens`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('[data-test=token-name]', 'laptop');
  await page.click('[data-test=token-submit]');
  await page.waitForSelector('[data-test=token-secret]');
  assert.equal(await page.inputValue('[data-test=token-name]'), '');
  await page.waitForSelector('tr[data-name="laptop"]');
  await page.fill('[data-test=token-name]', 'laptop');
  await page.waitForSelector('[data-test=token-name-taken]');
  await page.fill('[data-test=token-name]', 'laptop 2');
  await page.waitForSelector('[data-test=token-name-taken]', { state: 'detached' });
  await context.close();
});

test('every action says what it did, and a weak password keeps its form open', async () => {
  const token = await apiLogin(base());
  await api(base(), token, 'POST', '/api/users', { email: 'actions@example.com', password: 'actions-password-1' });
  await api(base(), token, 'POST', '/api/users', { email: 'invited-only@example.com' });
  const context = await env.browser.newContext();
  const { page } = await signInAs(base(), context);
  await openUsers(page);
  await page.fill('[data-test=user-search]', 'actions@');
  await rowOf(page, 'actions@example.com').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-test=user-row]').length === 1);
  const row = rowOf(page, 'actions@example.com');

  await row.locator('[data-test=set-password]').click();
  await row.locator('[data-test=new-user-password]').fill('short');
  await row.locator('[data-test=set-password-form] button').click();
  await row.locator('[data-test=set-password-error]').waitFor();
  assert.equal(await row.locator('[data-test=set-password-error]').textContent(), 'Password must be at least 8 characters');
  assert.equal(await row.locator('[data-test=set-password-form]').count(), 1, 'the form stays open');
  await row.locator('[data-test=new-user-password]').fill('a-good-password-1');
  await row.locator('[data-test=set-password-form] button').click();
  await page.waitForSelector('[data-test=feedback-ok]');
  assert.equal(await page.textContent('[data-test=feedback-ok]'), 'Set a new password for actions@example.com; their sessions ended.');
  assert.equal(await row.locator('[data-test=set-password-form]').count(), 0);

  await row.locator('[data-test=user-role]').selectOption('viewer');
  await page.waitForFunction(() => document.querySelector('[data-test=feedback-ok]')?.textContent === 'actions@example.com is now viewer.');
  await rowOf(page, 'actions@example.com').locator('[data-test=toggle-active]').click();
  await page.waitForFunction(() => document.querySelector('[data-test=feedback-ok]')?.textContent.startsWith('Deactivated actions@example.com'));

  // An invited user shows as such and can be sent a new link.
  await page.fill('[data-test=user-search]', 'invited-only');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=user-row]').length === 1);
  const invited = rowOf(page, 'invited-only@example.com');
  assert.equal(await invited.locator('[data-test=user-active]').textContent(), 'invited');
  await invited.locator('[data-test=resend-invite]').click();
  await page.waitForSelector('[data-test=hand-over]');
  assert.match(await page.inputValue('[data-test=link]'), /\/setup\?email=invited-only%40example\.com&token=[0-9a-f]{64}$/);

  await rowOf(page, 'invited-only@example.com').locator('[data-test=delete]').click();
  await rowOf(page, 'invited-only@example.com').locator('[data-test=confirm-delete]').click();
  await page.waitForSelector('[data-test=no-users]');
  assert.equal(await page.locator('[data-test=hand-over]').count(), 0, 'the deleted user\'s link is gone');
  assert.equal(await page.textContent('[data-test=feedback-ok]'), 'Deleted invited-only@example.com; their sessions and tokens ended.');
  await context.close();
});

test('the audit log reads as sentences and filters by part of an email as you type', async () => {
  // Far from UTC, so local times differ from the UTC text the server rendered.
  const context = await env.browser.newContext({ timezoneId: 'Asia/Tokyo' });
  const { page, problems } = await signInAs(base(), context);
  await page.goto(`${base()}/admin/audit?action=user.create`);
  await page.waitForSelector('body[data-hydrated]');
  await page.waitForSelector('[data-test=audit-row]');
  const first = await page.textContent('[data-test=audit-row-text]');
  assert.match(first, /^Created user \S+@example\.com as \w+/);
  const title = await page.getAttribute('[data-test=audit-row] time', 'title');
  assert.match(title, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  // Shown in the reader's time zone, to the second.
  await page.waitForFunction(() => {
    const time = document.querySelector('[data-test=audit-row] time');
    return time && time.textContent !== time.title;
  });
  const shown = await page.textContent('[data-test=audit-row] time');
  const utc = new Date(title.replace(' UTC', 'Z').replace(' ', 'T'));
  assert.ok(shown.includes(String(utc.getUTCSeconds()).padStart(2, '0')), `${shown} vs ${title}`);
  await page.fill('[data-test=audit-actor]', 'no-such-actor');
  await page.waitForSelector('[data-test=no-audit-rows]');
  await page.fill('[data-test=audit-actor]', 'admin@');
  await page.waitForSelector('[data-test=audit-row]');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the dashboard shows what is useful and the navigation marks the page', async () => {
  const context = await env.browser.newContext();
  const { page } = await signInAs(base(), context);
  assert.equal(await page.getAttribute('[data-test=nav-dashboard]', 'aria-current'), 'page');
  assert.equal(await page.getAttribute('[data-test=nav-tokens]', 'aria-current'), null);
  await page.waitForSelector('[data-test=dash-admin]');
  assert.match(await page.textContent('[data-test=dash-users]'), /^\d+ users$/);
  assert.match(await page.textContent('[data-test=dash-tokens]'), /^\d+ active tokens?$/);
  assert.equal(await page.getAttribute('[data-test=dash-install]', 'href'), '/install');
  assert.equal(await page.getAttribute('[data-test=nav-install]', 'href'), '/install');
  // After an in-app navigation the mark moves.
  await page.click('[data-test=nav-tokens]');
  await page.waitForFunction(() =>
    document.querySelector('[data-test=nav-tokens]')?.getAttribute('aria-current') === 'page');
  assert.equal(await page.getAttribute('[data-test=nav-dashboard]', 'aria-current'), null);

  // Someone who is not an admin sees their own figures only.
  const token = await apiLogin(base());
  await api(base(), token, 'POST', '/api/users', { email: 'dash-viewer@example.com', role: 'viewer', password: 'viewer-password-1' });
  const viewerContext = await env.browser.newContext();
  const { page: viewer, problems } = await signInAs(base(), viewerContext, 'dash-viewer@example.com', 'viewer-password-1');
  await viewer.waitForSelector('[data-test=dash-tokens]');
  assert.equal(await viewer.textContent('[data-test=dash-tokens]'), '0 active tokens');
  assert.equal(await viewer.locator('[data-test=dash-admin]').count(), 0);
  assert.equal(await viewer.locator('[data-test=nav-admin-users]').count(), 0);
  assert.deepEqual(problems, []);
  await viewerContext.close();
  await context.close();
});

test('without mail, "forgot password" says to ask an administrator', async () => {
  const context = await env.browser.newContext();
  const { page } = await openPage(context);
  await page.goto(`${base()}/reset-password`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', ADMIN_EMAIL);
  await page.click('button[type=submit]');
  await page.waitForSelector('[role=status]');
  assert.equal(
    await page.textContent('[role=status]'),
    'Password reset by email is not set up on this server. Ask an administrator for a reset link.',
  );
  await context.close();
});

test('every page fits a phone screen', async () => {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  const { page } = await signInAs(base(), context);
  for (const path of ['/', '/tokens', '/profile', '/install', '/admin/users', '/admin/tokens', '/admin/audit']) {
    await page.goto(`${base()}${path}`);
    await page.waitForSelector('body[data-hydrated]');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} is ${width}px wide on a 390px screen`);
  }
  const visitor = await (await env.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await visitor.goto(`${base()}/login`);
  assert.ok(await visitor.evaluate(() => document.documentElement.scrollWidth) <= 390);
  await context.close();
});

test('the bundle has a content-hashed address with long-lived caching; pages are no-cache and compressed', async () => {
  const context = await env.browser.newContext();
  const { page } = await openPage(context);
  const response = await page.goto(`${base()}/login`);
  assert.equal(response.headers()['cache-control'], 'private, no-cache');
  assert.equal(response.headers()['content-encoding'], 'gzip');
  // JSON is never compressed on the fly (it carries fresh secrets next to what was sent).
  const gzip = { 'accept-encoding': 'gzip' };
  const json = await fetch(`${base()}/auth/token`, {
    method: 'POST',
    headers: { ...gzip, 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: 'admin-password-1' }),
  });
  assert.equal(json.headers.get('content-encoding'), null);
  assert.equal(json.headers.get('cache-control'), 'no-store');
  const unversioned = await fetch(`${base()}/pkg/frontend.js`, { headers: gzip });
  assert.equal(unversioned.headers.get('cache-control'), 'no-cache');

  const html = await response.text();
  const js = html.match(/\/pkg\/([0-9a-f]{16})\/frontend\.js/);
  assert.ok(js, 'the page names the bundle by its hash');
  for (const file of ['frontend.js', 'frontend_bg.wasm', 'da.css']) {
    const asset = await fetch(`${base()}/pkg/${js[1]}/${file}`);
    assert.equal(asset.status, 200, file);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', file);
  }
  // What is not there is not cached for a year.
  const missing = await fetch(`${base()}/pkg/${js[1]}/nothing.js`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('cache-control'), null);
  await page.waitForSelector('body[data-hydrated]');
  await context.close();
});
