// The data side as people meet it: an admin uploads a dataset and grants it to a group on
// /admin/datasets; a member of that group sees it on /datasets and queries it on /query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { api, apiLogin, serverAndBrowser, signInAs } from './harness.js';

const env = serverAndBrowser();
const base = () => env.server.baseUrl;
const fixture = (name) => fileURLToPath(new URL(`../../tests/fixtures/${name}`, import.meta.url));
const datasetRow = (page, name) => page.locator(`[data-test=admin-dataset][data-name="${name}"]`);

test('an admin uploads a dataset and grants it to a group; a member queries it', async () => {
  const token = await apiLogin(base());
  await api(base(), token, 'POST', '/api/users', { email: 'dee@example.com', role: 'viewer', password: 'dee-password-1' });
  await api(base(), token, 'POST', '/api/users', { email: 'eli@example.com', role: 'viewer', password: 'eli-password-1' });
  const group = await (await api(base(), token, 'POST', '/api/groups', { name: 'Sales team' })).json();
  const dee = (await (await api(base(), token, 'GET', '/api/users?email=dee@example.com')).json())[0];
  assert.equal((await api(base(), token, 'PUT', `/api/groups/${group.id}/members/${dee.id}`)).status, 204);

  const admin = await env.browser.newContext();
  const { page, problems } = await signInAs(base(), admin, undefined, undefined, '/admin/datasets');
  await page.waitForSelector('[data-test=no-datasets]');

  // The file's name suggests the dataset's; the upload shows its progress and then the facts.
  await page.setInputFiles('[data-test=upload-file]', fixture('sales.parquet'));
  assert.equal(await page.inputValue('[data-test=upload-name]'), 'sales');
  await page.fill('[data-test=upload-description]', 'Orders by region & day');
  await page.click('[data-test=upload-submit]');
  await page.waitForSelector('[data-test=feedback-ok]');
  assert.equal(await page.textContent('[data-test=feedback-ok]'), 'Uploaded sales: 1000 rows, 4 columns.');
  const sales = datasetRow(page, 'sales');
  await sales.waitFor();
  assert.equal(await sales.locator('[data-test=admin-dataset-description]').textContent(), 'Orders by region & day');
  assert.equal(await page.inputValue('[data-test=upload-name]'), '', 'the form starts fresh');

  // A file that is not what its name says is refused in words.
  await page.setInputFiles('[data-test=upload-file]', {
    name: 'broken.parquet', mimeType: 'application/octet-stream', buffer: Buffer.from('not parquet at all'),
  });
  await page.click('[data-test=upload-submit]');
  await page.waitForSelector('[data-test=upload-error]');
  assert.equal(await page.textContent('[data-test=upload-error]'), 'Not a valid Parquet file');

  // Grant it to the group: Dee (a member) reads it at once; Eli (not one) does not.
  await sales.locator('[data-test=grant-group]').selectOption({ label: 'Sales team' });
  await sales.locator('[data-test=grant-add]').click();
  await sales.locator('[data-test=grant][data-group="Sales team"]').waitFor();

  const member = await env.browser.newContext();
  const { page: deePage, problems: deeProblems } = await signInAs(base(), member, 'dee@example.com', 'dee-password-1', '/datasets');
  const card = deePage.locator('[data-test=dataset][data-name=sales]');
  await card.waitFor();
  assert.match(await card.locator('[data-test=dataset-facts]').textContent(), /parquet · 1000 rows/);
  await deePage.click('[data-test=nav-query]');
  await deePage.waitForSelector('[data-test=query-form]');
  await deePage.waitForSelector('body[data-hydrated]');
  assert.equal(await deePage.textContent('[data-test=query-tables]'), 'Tables: sales');
  await deePage.fill('[data-test=query-sql]',
    'SELECT region, count(*) AS orders, sum(amount) AS total FROM sales GROUP BY region ORDER BY region');
  // Ctrl+Enter runs it, as in every SQL editor.
  await deePage.press('[data-test=query-sql]', 'Control+Enter');
  await deePage.waitForSelector('[data-test=query-grid]');
  const headers = await deePage.locator('[data-test=query-grid] th').allInnerTexts();
  assert.deepEqual(headers.map((h) => h.replace(/\s+/g, ' ').trim()), ['region VARCHAR', 'orders BIGINT', 'total DECIMAL(38,2)']);
  const rows = await deePage.locator('[data-test=query-row]').count();
  assert.ok(rows >= 2, `${rows} regions`);
  assert.match(await deePage.textContent('[data-test=query-summary]'), new RegExp(`^${rows} rows in \\d+ ms$`));
  const orders = await deePage.locator('[data-test=query-row] td:nth-child(2)').allTextContents();
  assert.equal(orders.reduce((sum, n) => sum + Number(n), 0), 1000);
  assert.equal(await deePage.getAttribute('[data-test=query-csv]', 'download'), 'query.csv');

  // Errors come in words: a table Dee may not read is the same as one that does not exist.
  await deePage.fill('[data-test=query-sql]', 'SELECT * FROM payroll');
  await deePage.click('[data-test=query-run]');
  await deePage.waitForSelector('[data-test=query-error]');
  assert.equal(await deePage.textContent('[data-test=query-error]'), 'Unknown dataset: payroll');
  await deePage.fill('[data-test=query-sql]', "SELECT * FROM read_csv('/etc/passwd')");
  await deePage.click('[data-test=query-run]');
  await deePage.waitForFunction(() => document.querySelector('[data-test=query-error]')?.textContent === 'Only datasets can be queried');

  const eli = await apiLogin(base(), 'eli@example.com', 'eli-password-1');
  assert.equal((await api(base(), eli, 'GET', '/api/datasets/sales')).status, 404);

  // A minimum role opens it to everyone at or above it; revoking the grant closes it for Dee.
  await sales.locator('[data-test=admin-dataset-edit]').click();
  await sales.locator('[data-test=edit-dataset-min-role]').selectOption('analyst');
  await sales.locator('[data-test=edit-dataset-save]').click();
  await page.waitForFunction(() => document.querySelector('[data-test=admin-dataset][data-name=sales] [data-test=admin-dataset-min-role]')
    ?.textContent.includes('analyst+'));
  await sales.locator('[data-test=grant-revoke]').click();
  await sales.locator('[data-test=grant]').waitFor({ state: 'detached' });
  const deeToken = await apiLogin(base(), 'dee@example.com', 'dee-password-1');
  assert.equal((await api(base(), deeToken, 'GET', '/api/datasets/sales')).status, 404);

  // Delete asks first.
  await sales.locator('[data-test=admin-dataset-delete]').click();
  await sales.locator('[data-test=admin-dataset-confirm-delete]').click();
  await sales.waitFor({ state: 'detached' });
  await page.waitForSelector('[data-test=no-datasets]');
  assert.equal((await api(base(), token, 'GET', '/api/datasets/sales')).status, 404);

  // The browser logs the refused upload (400) and the refused queries; nothing else.
  assert.deepEqual(problems.map((p) => p.match(/status of (\d+)/)?.[1] ?? p), ['400']);
  assert.deepEqual(deeProblems.map((p) => p.match(/status of (\d+)/)?.[1] ?? p), ['400', '400']);
  await admin.close();
  await member.close();
});
