import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, openPage, serverAndBrowser } from './harness.js';

const env = serverAndBrowser();

async function signInAs(context, email, password) {
  const { page, problems } = await openPage(context);
  await page.goto(`${env.server.baseUrl}/login`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${env.server.baseUrl}/`);
  return { page, problems };
}

async function openUsers(page) {
  await page.goto(`${env.server.baseUrl}/admin/users`);
  await page.waitForSelector('body[data-hydrated]');
  await page.waitForSelector('[data-test=users-table]');
}

const row = (page, email) => page.locator(`tr[data-email="${email}"]`);

test('an invited user sets a password from the link, and deactivation locks them out', async () => {
  const adminContext = await env.browser.newContext();
  const { page: admin, problems } = await signInAs(adminContext, ADMIN_EMAIL, ADMIN_PASSWORD);
  await openUsers(admin);

  await admin.fill('[data-test=new-email]', 'invitee@example.com');
  await admin.fill('[data-test=new-name]', 'Invited Person');
  await admin.selectOption('[data-test=new-role]', 'viewer');
  await admin.click('[data-test=create-submit]');
  const linkField = admin.locator('[data-test=link]');
  await linkField.waitFor();
  const invite = await linkField.inputValue();
  assert.match(invite, /\/setup\?email=invitee%40example\.com&token=[0-9a-f]{64}$/);
  await row(admin, 'invitee@example.com').waitFor();

  // A fresh browser (no admin cookie) opens the link and lands signed in.
  const userContext = await env.browser.newContext();
  const { page: user, problems: userProblems } = await openPage(userContext);
  await user.goto(invite);
  await user.waitForSelector('body[data-hydrated]');
  assert.equal(await user.textContent('[data-test=link-email]'), 'invitee@example.com');
  await user.fill('#password', 'invited-password-1');
  await user.fill('#repeat', 'invited-password-1');
  await user.click('button[type=submit]');
  await user.waitForURL(`${env.server.baseUrl}/`);
  assert.equal(await user.textContent('[data-test=me-email]'), 'invitee@example.com');
  assert.equal(await user.textContent('[data-test=me-role]'), 'viewer');
  // Not an admin: no admin links, and the admin page is a 403 page.
  assert.equal(await user.locator('[data-test=nav-admin-users]').count(), 0);
  const forbidden = await user.goto(`${env.server.baseUrl}/admin/users`);
  assert.equal(forbidden.status(), 403);
  await user.waitForSelector('[data-test=forbidden]');

  // The admin deactivates them; their next navigation lands on /login.
  await admin.reload();
  await admin.waitForSelector('body[data-hydrated]');
  const invitee = row(admin, 'invitee@example.com');
  await invitee.locator('[data-test=toggle-active]').click();
  await admin.waitForFunction(
    (email) => document.querySelector(`tr[data-email="${email}"] [data-test=user-active]`)?.textContent === 'inactive',
    'invitee@example.com',
  );
  await user.goto(`${env.server.baseUrl}/`);
  assert.match(user.url(), /\/login\?next=%2F$/);

  assert.deepEqual(problems, []);
  // The 403 page itself is logged by the browser as a failed load; nothing else may be.
  assert.ok(userProblems.every((p) => p.includes('403')), userProblems.join('\n'));
  await adminContext.close();
  await userContext.close();
});

test('an inline role change works, and demoting the last admin is refused in words', async () => {
  const context = await env.browser.newContext();
  const { page, problems } = await signInAs(context, ADMIN_EMAIL, ADMIN_PASSWORD);
  await openUsers(page);

  await page.fill('[data-test=new-email]', 'promote@example.com');
  await page.fill('[data-test=new-password]', 'promote-password-1');
  await page.click('[data-test=create-submit]');
  const promote = row(page, 'promote@example.com');
  await promote.waitFor();
  const updated = page.waitForResponse((r) => r.url().includes('/rpc/users/update'));
  await promote.locator('[data-test=user-role]').selectOption('km_admin');
  assert.equal((await updated).status(), 200);
  assert.equal(await page.locator('[data-test=row-error]').count(), 0);
  await page.reload();
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await row(page, 'promote@example.com').locator('[data-test=user-role]').inputValue(), 'km_admin');

  await row(page, ADMIN_EMAIL).locator('[data-test=user-role]').selectOption('analyst');
  const error = row(page, ADMIN_EMAIL).locator('[data-test=row-error]');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Cannot demote the last active admin');
  // The table shows the truth again: still admin.
  await page.waitForFunction(
    (email) => document.querySelector(`tr[data-email="${email}"] [data-test=user-role]`)?.value === 'admin',
    ADMIN_EMAIL,
  );
  // The failed RPC logs a 409 in the console; that is expected here.
  assert.ok(problems.every((p) => p.includes('409')), problems.join('\n'));
  await context.close();
});

test('markup in names renders as text, and the audit log lists what happened', async () => {
  const context = await env.browser.newContext();
  const { page } = await signInAs(context, ADMIN_EMAIL, ADMIN_PASSWORD);
  await openUsers(page);
  const name = `<script>window.pwned=1</script>"quoted' <b>bold</b>`;
  await page.fill('[data-test=new-email]', 'markup@example.com');
  await page.fill('[data-test=new-name]', name);
  await page.fill('[data-test=new-password]', 'markup-password-1');
  await page.click('[data-test=create-submit]');
  await row(page, 'markup@example.com').waitFor();
  // Server-rendered too: reload and read the cell.
  await page.reload();
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await row(page, 'markup@example.com').locator('[data-test=user-name]').textContent(), name);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator('b', { hasText: 'bold' }).count(), 0);

  await page.goto(`${env.server.baseUrl}/admin/audit`);
  await page.waitForSelector('body[data-hydrated]');
  await page.fill('[data-test=audit-action]', 'user.create');
  await page.press('[data-test=audit-action]', 'Enter');
  await page.waitForFunction(() => {
    const actions = [...document.querySelectorAll('[data-test=audit-row-action]')].map((e) => e.textContent);
    return actions.length > 0 && actions.every((a) => a === 'user.create');
  });
  await context.close();
});

test('the profile changes the password and signs out the other sessions', async () => {
  const first = await env.browser.newContext();
  const second = await env.browser.newContext();
  const { page } = await signInAs(first, ADMIN_EMAIL, ADMIN_PASSWORD);
  const { page: other } = await signInAs(second, ADMIN_EMAIL, ADMIN_PASSWORD);

  await page.goto(`${env.server.baseUrl}/profile`);
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await page.locator('[data-test=session-row]').count() >= 2, true);
  assert.equal(await page.locator('[data-test=this-session]').count(), 1);
  await page.fill('#current-password', ADMIN_PASSWORD);
  await page.fill('#new-password', 'changed-password-1');
  await page.fill('#repeat-password', 'changed-password-1');
  await page.click('[data-test=change-password] button[type=submit]');
  await page.waitForSelector('[data-test=password-changed]');
  // The list follows: only this session is left.
  await page.waitForFunction(() => document.querySelectorAll('[data-test=session-row]').length === 1);

  await other.goto(`${env.server.baseUrl}/`);
  assert.match(other.url(), /\/login/);
  await page.goto(`${env.server.baseUrl}/`);
  assert.equal(await page.textContent('[data-test=me-email]'), ADMIN_EMAIL);
  await first.close();
  await second.close();
});
