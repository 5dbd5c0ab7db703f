import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowser } from '../../scripts/build-browser';
import { KEYS, startTestServer, type TestServer } from '../harness';
import { chromiumSkipReason, launchChromium } from './chromium';
import { ALICE_MEMORIES, BOB_SECRET, seedDemo } from './demo-data';

/**
 * The memory browser in a real headless Chromium (Debian's package, driven by playwright-core)
 * against the real server on 127.0.0.1 and its embedded SQLite stores with graph memory: what a
 * person does with the page, checked on the page and through the API.
 */
const skip = chromiumSkipReason();

describe.skipIf(skip !== undefined)(`the memory browser in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let api: TestServer;
  let assets: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let movedId: string;
  /** Errors the pages threw: any is a failure. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    assets = await buildBrowser(mkdtempSync(join(tmpdir(), 'mem-browser-assets-')));
    // A connection Chromium still holds when the server shuts down (a request it had in flight, then kept
    // alive) is cut after the grace: the default's 125 s would outlast the hook's 60 s (CI failed so twice).
    api = await startTestServer({ config: { graphStore: { provider: 'sqlite' } }, browserAssets: assets, shutdownGraceMs: 5_000 });
    ({ movedId } = await seedDemo(api.request, KEYS, api.configured));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    if (assets) rmSync(assets, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  async function openPage(options: { key?: string; hash?: string } = {}): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A window.alert/confirm/prompt would mean injected script ran (the page itself never opens one).
    page.on('dialog', (dialog) => {
      pageErrors.push(`unexpected ${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${api.url}/${options.hash ?? ''}`);
    if (options.key) {
      await page.fill('#api-key', options.key);
      await page.press('#api-key', 'Enter');
      await page.waitForSelector('body[data-ready="list"]');
    }
    return page;
  }

  const texts = (page: Page) => page.locator('#results .memory .text').allTextContents();
  const apiTexts = async (key: string, query = '') =>
    ((await api.request('GET', `/v1/memories?pageSize=100${query}`, { key })).body.results as { text: string }[]).map((item) => item.text);

  it('serves the page with a strict Content-Security-Policy and no key, and the API still wants one', async () => {
    const response = await fetch(`${api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const script = await fetch(`${api.url}/browser/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(readFileSync(join(assets, 'index.html'), 'utf8')).not.toMatch(/https?:\/\//);
    expect((await fetch(`${api.url}/v1/memories`)).status).toBe(401);
  });

  it('signs in with a key (a wrong one gets the API’s message) and lists the scopes it may read, with counts', async () => {
    const page = await openPage();
    await page.fill('#api-key', 'not-a-real-key-of-this-server');
    await page.press('#api-key', 'Enter');
    await expect.poll(() => page.textContent('#signin-error')).toContain('The API key is not valid');
    await page.fill('#api-key', KEYS.admin);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('body[data-ready="list"]');
    expect(await page.textContent('#who')).toBe('ops (admin)');
    const scopes = await page.locator('button.scope').allInnerTexts();
    expect(scopes.map((text) => text.replace(/\s+/g, ' ').trim())).toEqual(['user alice 6', 'user bob 1']);
    await page.close();
  });

  it('lists a scope newest first with its dates and metadata', async () => {
    const page = await openPage({ key: KEYS.admin });
    await page.click('button.scope:has-text("user alice")');
    await expect.poll(() => page.textContent('#status')).toContain('6 memories, newest first');
    // Newest first by creation: the seeding added them in this order (then changed the Lisbon one in place).
    expect(await texts(page)).toEqual([
      'Training for the Porto half marathon',
      'Drinks green tea every morning',
      'Has a dog called Bolt',
      'Works as a nurse at Acme Clinic',
      'Moved from Lisbon to Porto in March 2025',
      'Is vegetarian and allergic to peanuts',
    ]);
    const dog = page.locator('.memory', { hasText: 'Has a dog called Bolt' });
    expect(await dog.locator('.dates').innerText()).toContain('occurred 2024-11-03 18:45 UTC');
    expect(await dog.locator('.metadata').innerText()).toMatch(/category\s+pets[\s\S]*tags\s+dog, family/);
    const moved = page.locator('.memory', { hasText: 'Moved from Lisbon' });
    expect(await moved.locator('.dates').innerText()).toContain('updated');
    await page.close();
  });

  it('pages a long scope 50 at a time, newest first, with “Load more”', async () => {
    const records = Array.from({ length: 62 }, (_, index) => ({
      id: `paged-${String(index).padStart(3, '0')}`,
      text: `Paged memory ${index}`,
      scope: { userId: 'paged' },
      createdAt: new Date(Date.UTC(2025, 0, 1, 0, index)).toISOString(),
    }));
    expect((await api.request('POST', '/v1/memories/import', { key: KEYS.admin, body: { records } })).body).toMatchObject({ added: 62 });
    const page = await openPage({ key: KEYS.admin, hash: '#user=paged' });
    await expect.poll(() => page.textContent('#status')).toContain('62 memories, newest first');
    const newestFirst = records.map((record) => record.text).reverse();
    expect(await texts(page)).toEqual(newestFirst.slice(0, 50));
    await page.click('#more');
    await expect.poll(() => texts(page)).toEqual(newestFirst);
    expect(await page.isHidden('#more')).toBe(true);
    // The focus went to the first memory of the new page.
    expect(await page.evaluate(() => document.activeElement?.closest('.memory')?.querySelector('.text')?.textContent)).toBe(
      'Paged memory 11',
    );
    await page.close();
  });

  it('searches with scores, filters by metadata, and shows the API’s errors for a bad filter', async () => {
    const page = await openPage({ key: KEYS.alice });
    await page.fill('#query', 'green tea');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.textContent('#status')).toContain('match “green tea”, best first');
    expect((await texts(page))[0]).toBe('Drinks green tea every morning');
    expect(await page.locator('.memory .score').first().innerText()).toMatch(/^score -?\d\.\d{3} · keyword \d+\.\d{2}$/);

    await page.fill('#query', '');
    await page.fill('#filter', '{"category": "food"}');
    await page.press('#filter', 'Enter');
    await expect.poll(() => texts(page)).toEqual(['Drinks green tea every morning', 'Is vegetarian and allergic to peanuts']);

    await page.fill('#filter', '{"rating": {"$gt": "high"}}');
    await page.press('#filter', 'Enter');
    await expect.poll(() => page.getAttribute('#status', 'class')).toContain('error');
    const message = await page.textContent('#status');
    const direct = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { rating: { $gt: 'high' } } },
    });
    expect(message).toBe(direct.body.error.message);
    expect(message).toContain('filter.rating.$gt');

    await page.fill('#filter', '{category: food}');
    await page.press('#filter', 'Enter');
    await expect.poll(() => page.textContent('#status')).toContain('The filter is not JSON');
    await page.close();
  });

  it('shows a memory’s history as a timeline: the old text, when it stopped being true, the new one', async () => {
    const page = await openPage({ key: KEYS.alice });
    await page
      .locator('.memory', { hasText: 'Moved from Lisbon' })
      .getByRole('button', { name: /^History/ })
      .click();
    const events = page.locator('#detail .timeline .event');
    await expect.poll(() => events.count()).toBe(2);
    expect(await events.nth(0).innerText()).toMatch(/^ADD 2024-06-01 09:30 UTC by add\s+Lives in Lisbon/);
    const update = await events.nth(1).innerText();
    expect(update).toMatch(/^UPDATE .* by update/);
    expect(await events.nth(1).locator('del').innerText()).toBe('Lives in Lisbon');
    expect(update).toContain('true until');
    expect(update).toContain('Moved from Lisbon to Porto in March 2025');
    expect(await page.textContent('#detail .memory-id')).toContain(movedId);
    // Focus moved to the history, for keyboard and screen reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title');
    await page.close();
  });

  it('edits a memory’s text and metadata', async () => {
    const page = await openPage({ key: KEYS.alice });
    await page.locator('.memory', { hasText: 'Has a dog called Bolt' }).getByRole('button', { name: 'Edit' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('textarea[name=text]').fill('Has a dog called Bolt and a cat called Mia');
    await dialog.locator('textarea[name=metadata]').fill('{"category": "pets", "tags": ["dog", "cat"]}');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('dialog[open]').count()).toBe(0);
    await expect.poll(() => texts(page)).toContain('Has a dog called Bolt and a cat called Mia');
    const stored = (
      await api.request('POST', '/v1/memories/list', { key: KEYS.alice, body: { scope: {}, filter: { tags: { $contains: 'cat' } } } })
    ).body.results;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      text: 'Has a dog called Bolt and a cat called Mia',
      metadata: { category: 'pets', tags: ['dog', 'cat'] },
    });
    // A bad metadata value gets the API's message in the dialog, and nothing changes.
    await page.locator('.memory', { hasText: 'Mia' }).getByRole('button', { name: 'Edit' }).click();
    await page.locator('dialog[open] textarea[name=metadata]').fill('{"id": "taken"}');
    await page.locator('dialog[open]').getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.textContent('dialog[open] .error')).toContain('metadata');
    await page.keyboard.press('Escape');
    expect((await api.request('GET', `/v1/memories/${stored[0].id}`, { key: KEYS.alice })).body.metadata).not.toHaveProperty('id');
    await page.close();
  });

  it('adds memories by hand, deletes one, and deletes all after a confirmation that states how many', async () => {
    const page = await openPage({ key: KEYS.admin, hash: '#user=carol' });
    expect(await page.textContent('#scope-title')).toBe('user carol');
    for (const text of ['Carol likes sailing', 'Carol speaks Dutch', 'Carol has two sisters']) {
      await page.click('#add');
      await page.locator('dialog[open] textarea[name=text]').fill(text);
      await page.locator('dialog[open] textarea[name=metadata]').fill('{"source": "by hand"}');
      await page.locator('dialog[open]').getByRole('button', { name: 'Add' }).click();
      await expect.poll(() => texts(page)).toContain(text);
    }
    expect(await page.locator('button.scope').allInnerTexts()).toContainEqual(expect.stringMatching(/user carol\s+3/));
    await page.locator('.memory', { hasText: 'Carol speaks Dutch' }).getByRole('button', { name: 'Delete' }).click();
    expect(await page.textContent('dialog[open] blockquote')).toBe('Carol speaks Dutch');
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => texts(page)).toEqual(['Carol has two sisters', 'Carol likes sailing']);

    await page.click('#delete-all');
    expect(await page.textContent('dialog[open] h2')).toBe('Delete all 2 memories of user carol?');
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();
    expect(await apiTexts(KEYS.admin, '&userId=carol')).toHaveLength(2);
    await page.click('#delete-all');
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete 2 memories' }).click();
    await expect.poll(() => page.textContent('#status')).toContain('Deleted 2 memories.');
    expect(await apiTexts(KEYS.admin, '&userId=carol')).toEqual([]);
    // The history of a deleted memory is kept.
    await page.close();
  });

  it('exports a scope as JSONL and imports it back: a deleted memory returns with its id and dates', async () => {
    const page = await openPage({ key: KEYS.alice });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toBe('mem-user-alice.jsonl');
    const file = join(assets, download.suggestedFilename());
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(6);
    expect(lines.map((line) => line.text)).toContain('Is vegetarian and allergic to peanuts');
    const vegetarian = lines.find((line) => line.text === 'Is vegetarian and allergic to peanuts');

    expect((await api.request('DELETE', `/v1/memories/${vegetarian.id}`, { key: KEYS.alice })).body).toEqual({ deleted: true });
    await page.setInputFiles('#import-file', file);
    await expect.poll(() => page.textContent('#status')).toBe('Imported 6 memories from mem-user-alice.jsonl: 1 added, 5 updated.');
    const restored = await api.request('GET', `/v1/memories/${vegetarian.id}`, { key: KEYS.alice });
    expect(restored.body).toMatchObject({
      text: vegetarian.text,
      createdAt: vegetarian.createdAt,
      occurredAt: vegetarian.occurredAt,
      metadata: vegetarian.metadata,
    });

    // A bad line is reported with its line number and the API's message; nothing of its batch is written.
    const bad = join(tmpdir(), `mem-bad-${process.pid}.jsonl`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      bad,
      `${JSON.stringify({ text: 'fine', scope: { userId: 'alice' } })}\n\n${JSON.stringify({ text: '  ', scope: { userId: 'alice' } })}\n`,
    );
    await page.setInputFiles('#import-file', bad);
    await expect.poll(() => page.textContent('#status')).toMatch(/^Line 3: Invalid records\[1\]\.text/);
    rmSync(bad, { force: true });
    expect(await apiTexts(KEYS.alice)).not.toContain('fine');
    await page.close();
  });

  it('draws the graph: nodes, labelled edges, a closed relation shown closed with its dates, entities clickable', async () => {
    const page = await openPage({ key: KEYS.alice });
    await page.click('#tab-graph');
    await page.fill('#graph-query', 'alice');
    await page.press('#graph-query', 'Enter');
    await page.waitForSelector('svg.graph');
    const nodes = await page
      .locator('svg.graph .node')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-entity')));
    expect(nodes.sort()).toEqual(['acme clinic', 'alice', 'bolt', 'lisbon', 'porto', 'porto half marathon']);
    const edges = await page.locator('svg.graph .edge text').allTextContents();
    expect(edges).toEqual(expect.arrayContaining(['lives_in', 'works_at', 'has_pet', 'training_for', 'lives_in (until 2025-03-01)']));
    const closed = page.locator('svg.graph .edge.closed');
    expect(await closed.count()).toBe(1);
    expect(await closed.locator('title').textContent()).toBe(
      'alice lives_in lisbon: held from 2024-06-01 09:30 UTC until 2025-03-01 00:00 UTC',
    );
    expect(await page.locator('table.relations tr.closed').innerText()).toMatch(
      /alice\s+lives_in\s+lisbon\s+2024-06-01 09:30 UTC\s+2025-03-01 00:00 UTC/,
    );

    // Keyboard: focus the lisbon node and press Enter: the graph moves there.
    await page.locator('svg.graph .node[data-entity="lisbon"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.inputValue('#graph-query')).toBe('lisbon');
    await expect.poll(() => page.locator('svg.graph .edge text').allTextContents()).toContain('located_in');
    // A click does the same.
    await page.locator('svg.graph .node[data-entity="acme clinic"]').click();
    await expect.poll(() => page.inputValue('#graph-query')).toBe('acme clinic');

    // From a memory: its Graph button shows the relations around its text.
    await page.click('#tab-memories');
    await page.locator('.memory', { hasText: 'Works as a nurse' }).getByRole('button', { name: 'Graph' }).click();
    await expect.poll(() => page.locator('svg.graph .edge text').allTextContents()).toContain('works_at');
    await page.close();
  });

  it('shows what add and search cost, for the signed-in key', async () => {
    const page = await openPage({ key: KEYS.bob });
    await page.click('#tab-usage');
    await page.waitForSelector('table.usage');
    const rows = await page.locator('table.usage tbody tr').allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.includes('bob-app'))).toBe(true);
    expect(rows.at(-1)).toMatch(/add\s+bob-app\s+user bob/);
    expect(await page.textContent('.totals')).toMatch(/key bob-app\): 0 LLM calls/);
    await page.close();
  });

  it('a tenant key cannot see another tenant’s scope through the page', async () => {
    const page = await openPage({ key: KEYS.bob });
    expect((await page.locator('button.scope').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim())).toEqual(['user bob 1']);
    expect(await texts(page)).toEqual([BOB_SECRET]);
    // Straight to alice's scope by the address: the API refuses, the page shows why, and nothing of alice.
    await page.goto(`${api.url}/#user=alice`);
    await page.waitForSelector('body[data-ready="list"]');
    await expect.poll(() => page.textContent('#status')).toContain('FORBIDDEN');
    expect(await texts(page)).toEqual([]);
    await page.fill('#query', 'vegetarian');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.textContent('#status')).toContain('This API key may not use this userId');
    await page.click('#tab-graph');
    await page.fill('#graph-query', 'alice');
    await page.press('#graph-query', 'Enter');
    await expect.poll(() => page.textContent('#graph-status')).toContain('FORBIDDEN');
    const body = await page.locator('body').innerText();
    for (const memory of ALICE_MEMORIES) expect(body).not.toContain(memory.text);
    expect(body).not.toMatch(/lisbon|acme clinic/i);
    // And alice's key never sees bob's memory.
    const alice = await openPage({ key: KEYS.alice, hash: '#user=bob' });
    await expect.poll(() => alice.textContent('#status')).toContain('FORBIDDEN');
    expect(await alice.locator('body').innerText()).not.toContain(BOB_SECRET);
    await alice.close();
    await page.close();
  });

  it('shows XSS stored in memory text, metadata or entity names as text, and never runs it', async () => {
    const attacks = {
      text: '<img src=x onerror="window.__xss=\'text\'"><script>window.__xss="script"</script>',
      note: '<svg onload="window.__xss=\'metadata\'"></svg>',
      tag: '"><iframe srcdoc="<script>parent.__xss=1</script>">',
      entity: '<img src=y onerror=window.__xss=4>',
    };
    const added = await api.request('POST', '/v1/memories', {
      key: KEYS.admin,
      body: { messages: attacks.text, scope: { userId: 'mallory' }, metadata: { note: attacks.note, tags: [attacks.tag] } },
    });
    expect(added.status).toBe(200);
    const graph = api.configured.graphStore!;
    const { vectors } = await api.configured.embedder.embed({ texts: [attacks.entity], purpose: 'document' });
    await graph.upsertEntities({
      scope: { userId: 'mallory' },
      entities: [{ name: attacks.entity, type: 'person', embedding: vectors[0]! }],
    });
    await graph.upsertRelations({
      scope: { userId: 'mallory' },
      relations: [{ source: attacks.entity, relation: 'knows', target: 'mallory', validFrom: new Date('2025-01-01T00:00:00Z') }],
    });

    const page = await openPage({ key: KEYS.admin, hash: '#user=mallory' });
    const row = page.locator('.memory').first();
    expect(await row.locator('.text').textContent()).toBe(attacks.text);
    expect(await row.locator('.metadata').innerText()).toContain(attacks.note);
    expect(await row.locator('.metadata').innerText()).toContain(attacks.tag);
    await row.getByRole('button', { name: /^History/ }).click();
    await expect.poll(() => page.locator('#detail .timeline .new').first().textContent()).toBe(attacks.text);
    await page.fill('#query', 'img src onerror');
    await page.press('#query', 'Enter');
    await expect.poll(() => page.locator('#results .memory .text').first().textContent()).toBe(attacks.text);
    await page.locator('.memory').first().getByRole('button', { name: 'Edit' }).click();
    expect(await page.inputValue('dialog[open] textarea[name=text]')).toBe(attacks.text);
    await page.keyboard.press('Escape');
    await page.click('#tab-graph');
    await page.fill('#graph-query', attacks.entity);
    await page.press('#graph-query', 'Enter');
    await page.waitForSelector('svg.graph');
    expect(await page.locator('svg.graph .node text').allTextContents()).toContain(attacks.entity);

    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(
      await page
        .locator('#results img, #results script, #results svg, #results iframe, #detail img, #graph-picture img, #graph-picture iframe')
        .count(),
    ).toBe(0);
    await page.close();
  });

  it('works by keyboard alone: sign in, search with "/", open a history', async () => {
    const page = await openPage();
    // The key field has the focus when the page opens.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(KEYS.alice);
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-ready="list"]');
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('query');
    await page.keyboard.type('peanuts');
    await page.keyboard.press('Enter');
    await expect.poll(() => texts(page)).toContain('Is vegetarian and allergic to peanuts');
    let label = '';
    for (let presses = 0; presses < 12 && !label.startsWith('History'); presses++) {
      await page.keyboard.press('Tab');
      label = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    }
    expect(label).toMatch(/^History of: /);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#detail .timeline .event').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title');
    await page.close();
  });

  it('reads at a narrow width without sideways scrolling, and nothing jumps while it loads', async () => {
    for (const viewport of [
      { width: 1280, height: 860 },
      { width: 360, height: 740 },
    ]) {
      const page = await browser.context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.setViewportSize(viewport);
      // Signed in from the start (as after a reload): record every layout shift from the first paint.
      await page.addInitScript((key) => {
        sessionStorage.setItem('mem.apiKey', key);
        (window as { __shifts?: number }).__shifts = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
            if (!entry.hadRecentInput) (window as { __shifts?: number }).__shifts! += entry.value;
          }
        }).observe({ type: 'layout-shift', buffered: true });
      }, KEYS.alice);
      await page.goto(`${api.url}/#user=alice`);
      await page.waitForSelector('body[data-ready="list"]');
      // Layout shifts are reported once a frame is drawn: let two more frames pass.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const layout = await page.evaluate(() => ({
        shifts: (window as { __shifts?: number }).__shifts,
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      expect(layout.scrollWidth, `sideways scrolling at ${viewport.width}px`).toBeLessThanOrEqual(layout.clientWidth);
      expect(layout.shifts, `layout shift at ${viewport.width}px`).toBeLessThan(0.01);
      expect((await texts(page)).length).toBeGreaterThan(0);
      await page.close();
    }
  });
});
