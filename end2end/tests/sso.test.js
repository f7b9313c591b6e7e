// Groups and single sign-on as people meet them: an admin builds a group on /admin/groups, a
// colleague signs in through a real OpenID provider (oidc-provider) and lands with the groups
// and role their IdP gives them, and what SSO manages is shown read-only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, apiLogin, launchBrowser, openPage, signInAs, startSsoServer,
} from './harness.js';

const ACCOUNTS = {
  ana: { email: 'ana@example.com', email_verified: true, name: 'Ana Analyst', groups: ['data-analysts'] },
  eve: { email: 'eve@elsewhere.test', email_verified: true, name: 'Eve', groups: [] },
};

let server;
let browser;
before(async () => {
  server = await startSsoServer(ACCOUNTS, { DA_OIDC_ALLOWED_DOMAINS: 'example.com' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});
const base = () => server.baseUrl;
const groupOf = (page, name) => page.locator(`[data-test=group][data-name="${name}"]`);

/// A browser context whose pages never reach the internet: the provider's development login
/// page imports a web font, answered here with nothing.
async function offlineContext() {
  const context = await browser.newContext();
  await context.route(/^https:\/\//, (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
  return context;
}

/// Clicks "Sign in with Test IdP" on the login page and signs in at the provider as `login`.
async function signInWithSso(page, login) {
  await page.waitForSelector('body[data-hydrated]');
  const button = page.locator('[data-test=sso-login]');
  assert.equal((await button.textContent()).trim(), 'Sign in with Test IdP');
  await button.click();
  await page.waitForSelector('input[name=login]');
  assert.ok(page.url().startsWith(server.provider.issuer), `at the provider, not ${page.url()}`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button.login-submit');
}

async function openGroups(page) {
  await page.goto(`${base()}/admin/groups`);
  await page.waitForSelector('body[data-hydrated]');
}

test('an admin creates a group, gives it a role, adds and removes a member, and deletes it', async () => {
  const token = await apiLogin(base());
  await api(base(), token, 'POST', '/api/users', { email: 'bo@example.com', name: 'Bo', role: 'viewer' });
  const context = await browser.newContext();
  const { page, problems } = await signInAs(base(), context, undefined, undefined, '/admin/groups');
  await page.click('[data-test=nav-admin-groups]');
  await page.waitForSelector('[data-test=create-group]');

  await page.fill('[data-test=new-group-name]', 'Finance');
  await page.fill('[data-test=new-group-description]', 'Reads the ledgers');
  await page.click('[data-test=create-group-submit]');
  await groupOf(page, 'Finance').waitFor();
  assert.equal(await page.inputValue('[data-test=new-group-name]'), '', 'the form starts fresh');
  assert.equal((await groupOf(page, 'Finance').locator('[data-test=group-members]').textContent()).trim(), '0');

  // A second group of the same name is refused in words.
  await page.fill('[data-test=new-group-name]', 'finance');
  await page.click('[data-test=create-group-submit]');
  await page.waitForSelector('[data-test=create-group-error]:not(:empty)');
  assert.match(await page.textContent('[data-test=create-group-error]'), /already/i);

  const finance = groupOf(page, 'Finance');
  await finance.locator('[data-test=group-edit]').click();
  await finance.locator('[data-test=edit-group-role]').selectOption('analyst');
  await finance.locator('[data-test=edit-group-external]').fill('finance@example.com\ncn=finance,ou=groups,dc=example');
  await finance.locator('[data-test=edit-group-save]').click();
  await page.waitForFunction(() => document.querySelector('[data-test=group][data-name=Finance] [data-test=group-role]')
    ?.textContent.includes('analyst'));
  // One id per line: a value with commas (an LDAP name) stays one value.
  const saved = (await (await api(base(), token, 'GET', '/api/groups?q=Finance')).json())[0];
  assert.deepEqual(saved.external_ids, ['finance@example.com', 'cn=finance,ou=groups,dc=example']);
  // An edit sends only what changed: another admin's role change made meanwhile stays.
  await api(base(), token, 'PATCH', `/api/groups/${saved.id}`, { role: 'km_admin' });
  await finance.locator('[data-test=group-edit]').click();
  await finance.locator('[data-test=edit-group-description]').fill('Reads and writes the ledgers');
  await finance.locator('[data-test=edit-group-save]').click();
  await page.waitForFunction(() => document.querySelector('[data-test=group][data-name=Finance]')
    ?.textContent.includes('Reads and writes'));
  const edited = (await (await api(base(), token, 'GET', `/api/groups/${saved.id}`)).json());
  assert.equal(edited.role, 'km_admin');
  await api(base(), token, 'PATCH', `/api/groups/${saved.id}`, { role: 'analyst' });

  await finance.locator('[data-test=group-show-members]').click();
  await finance.locator('[data-test=no-members]').waitFor();
  await finance.locator('[data-test=add-member-email]').fill('bo@example.com');
  await finance.locator('[data-test=add-member] button[type=submit]').click();
  const bo = finance.locator('[data-test=member][data-email="bo@example.com"]');
  await bo.waitFor();
  assert.equal(await bo.getAttribute('data-source'), 'admin');
  // The group's role applies to Bo's very next request.
  const groups = await (await api(base(), token, 'GET', '/api/groups?q=Finance')).json();
  const boUser = (await (await api(base(), token, 'GET', '/api/users?email=bo@example.com')).json())[0];
  assert.equal(boUser.effective_role, 'analyst');
  assert.equal(groups[0].member_count, 1);

  // Adding someone unknown says so.
  await finance.locator('[data-test=add-member-email]').fill('nobody@example.com');
  await finance.locator('[data-test=add-member] button[type=submit]').click();
  await page.waitForFunction(() => /User not found/.test(document.querySelector('[data-test=members]')?.textContent ?? ''));

  await bo.locator('[data-test=member-remove]').click();
  await bo.waitFor({ state: 'detached' });
  const after = (await (await api(base(), token, 'GET', '/api/users?email=bo@example.com')).json())[0];
  assert.equal(after.effective_role, 'viewer');

  // /admin/users shows the groups of a user and the role they act with.
  await finance.locator('[data-test=group-delete]').click();
  await finance.locator('[data-test=group-confirm-delete]').click();
  await finance.waitFor({ state: 'detached' });
  await page.fill('[data-test=group-search]', 'Fin');
  await page.waitForSelector('[data-test=no-groups]');
  // The browser logs the two refusals above (409 name taken, 404 no such user); nothing else.
  assert.deepEqual(problems.map((p) => p.match(/status of (\d+)/)?.[1] ?? p), ['409', '404']);
  await context.close();
});

test('Sign in with the IdP: a new colleague lands where they were going, with the IdP\'s groups and role', async () => {
  const token = await apiLogin(base());
  const created = await api(base(), token, 'POST', '/api/groups', {
    name: 'Data analysts', role: 'analyst', external_ids: ['data-analysts'],
  });
  assert.equal(created.status, 201);

  const context = await offlineContext();
  const { page } = await openPage(context);
  await page.goto(`${base()}/profile`);
  await page.waitForURL(`${base()}/login?next=%2Fprofile`);
  await signInWithSso(page, 'ana');
  await page.waitForURL(`${base()}/profile`);
  await page.waitForSelector('body[data-hydrated]');
  assert.equal(await page.textContent('[data-test=profile-email]'), 'ana@example.com');
  assert.equal(await page.textContent('[data-test=profile-name]'), 'Ana Analyst');
  assert.equal(await page.textContent('[data-test=profile-role]'), 'viewer');
  assert.match(await page.textContent('[data-test=profile-role-effective]'), /analyst through groups/);
  assert.match(await page.textContent('[data-test=profile-group]'), /Data analysts/);
  assert.ok(await page.isVisible('[data-test=profile-sso]'));
  await context.close();

  // The admin sees the membership, managed by SSO and not removable here.
  const adminContext = await browser.newContext();
  const admin = await signInAs(base(), adminContext, undefined, undefined, '/admin/groups');
  await openGroups(admin.page);
  const group = groupOf(admin.page, 'Data analysts');
  assert.equal((await group.locator('[data-test=group-members]').textContent()).trim(), '1');
  await group.locator('[data-test=group-show-members]').click();
  const ana = group.locator('[data-test=member][data-email="ana@example.com"]');
  await ana.waitFor();
  assert.equal(await ana.getAttribute('data-source'), 'sso');
  assert.match(await ana.locator('[data-test=member-managed]').textContent(), /identity provider/i);
  assert.equal(await ana.locator('[data-test=member-remove]').count(), 0);

  // /admin/users: the role she acts with, and her groups.
  await admin.page.goto(`${base()}/admin/users`);
  await admin.page.waitForSelector('body[data-hydrated]');
  await admin.page.fill('[data-test=user-search]', 'ana@');
  const row = admin.page.locator('tr[data-email="ana@example.com"]');
  await row.waitFor();
  assert.match(await row.locator('[data-test=user-effective]').textContent(), /analyst/);
  await row.locator('[data-test=user-groups]').click();
  await admin.page.waitForFunction(() => /Data analysts/
    .test(document.querySelector('[data-test=user-groups-list]')?.textContent ?? ''));
  assert.deepEqual(admin.problems, []);
  await adminContext.close();

  // From the login page itself, she lands on the dashboard; it shows the role she acts with.
  const again = await offlineContext();
  const second = await openPage(again);
  await second.page.goto(`${base()}/login`);
  await signInWithSso(second.page, 'ana');
  await second.page.waitForURL(`${base()}/`);
  await second.page.waitForSelector('body[data-hydrated]');
  assert.match(await second.page.textContent('[data-test=me-role-effective]'), /analyst/);
  await again.close();
});

test('a refused SSO sign-in comes back to the login page with the reason in words', async () => {
  const context = await offlineContext();
  const { page } = await openPage(context);
  await page.goto(`${base()}/login`);
  await signInWithSso(page, 'eve');
  await page.waitForURL(/\/login\?error=domain_not_allowed/);
  await page.waitForSelector('[data-test=login-error]');
  assert.equal(await page.textContent('[data-test=login-error]'),
    'Accounts of your email domain may not sign in here.');
  // The password form is still there for accounts that have one.
  assert.ok(await page.isVisible('#password'));
  await context.close();
});
