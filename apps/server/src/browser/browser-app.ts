import {
  Api,
  ApiError,
  type ImportRecord,
  type MemoryItem,
  type Metadata,
  type Scope,
  type ScopeCount,
  type SearchResult,
  type WhoAmI,
} from './browser-api';
import { byId, formatDate, h } from './browser-dom';
import { drawGraph, relationTable } from './browser-graph';

const KEY_STORAGE = 'mem.apiKey';
const PAGE_SIZE = 50;
const IMPORT_BATCH = 100;
const SCOPE_FIELDS = ['userId', 'agentId', 'runId'] as const;
const SCOPE_LABELS = { userId: 'user', agentId: 'agent', runId: 'run' } as const;
const HASH_KEYS = { userId: 'user', agentId: 'agent', runId: 'run' } as const;

type View = 'memories' | 'graph' | 'usage';

interface State {
  api: Api;
  me: WhoAmI;
  scopes: ScopeCount[] | undefined;
  scope: Scope | undefined;
  view: View;
  /** What the list shows: the scope newest first, or search results. */
  query: string;
  filter: unknown;
  items: (MemoryItem | SearchResult)[];
  nextCursor: string | undefined;
  selected: MemoryItem | undefined;
  /** Bumped on every new listing, so an answer that arrives late for an old one is dropped. */
  generation: number;
}

let state: State | undefined;

/** `user alice · agent helper`. */
export function scopeLabel(scope: Scope): string {
  return SCOPE_FIELDS.filter((field) => scope[field] !== undefined)
    .map((field) => `${SCOPE_LABELS[field]} ${scope[field]}`)
    .join(' · ');
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError)
    return `${error.message}${error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED' ? ` (${error.code})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const status = byId('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

// ---------------------------------------------------------------------------------------------
// Sign in

/** Starts the page: signs in with the key kept for this tab, or shows the sign-in form. */
export async function start(): Promise<void> {
  byId<HTMLFormElement>('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(byId<HTMLInputElement>('api-key').value.trim());
  });
  byId('sign-out').addEventListener('click', signOut);
  for (const view of ['memories', 'graph', 'usage'] as const) byId(`tab-${view}`).addEventListener('click', () => showView(view));
  byId<HTMLFormElement>('query-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void runQuery();
  });
  byId('clear-query').addEventListener('click', () => {
    byId<HTMLInputElement>('query').value = '';
    byId<HTMLInputElement>('filter').value = '';
    void runQuery();
  });
  byId('more').addEventListener('click', () => void loadMore());
  byId('add').addEventListener('click', openAdd);
  byId('export').addEventListener('click', () => void exportScope());
  byId('import').addEventListener('click', () => byId<HTMLInputElement>('import-file').click());
  byId<HTMLInputElement>('import-file').addEventListener('change', (event) => void importFile(event.target as HTMLInputElement));
  byId('delete-all').addEventListener('click', () => void openDeleteAll());
  byId<HTMLFormElement>('custom-scope').addEventListener('submit', (event) => {
    event.preventDefault();
    const scope: Scope = {};
    for (const field of SCOPE_FIELDS) {
      const value = byId<HTMLInputElement>(`custom-${field}`).value.trim();
      if (value !== '') scope[field] = value;
    }
    selectScope(scope);
  });
  byId<HTMLFormElement>('graph-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void showGraph(byId<HTMLInputElement>('graph-query').value.trim());
  });
  byId('usage-refresh').addEventListener('click', () => void showUsage());
  document.addEventListener('keydown', (event) => {
    // "/" jumps to the search box, as on many sites; not while typing somewhere.
    const target = event.target as HTMLElement;
    if (event.key === '/' && !['INPUT', 'TEXTAREA'].includes(target.tagName) && state) {
      event.preventDefault();
      showView('memories');
      byId('query').focus();
    }
  });
  // An address with another scope (typed, or back and forward) opens that scope.
  window.addEventListener('hashchange', () => {
    const scope = scopeFromHash();
    if (state && scope && !sameScope(scope, state.scope)) selectScope(scope);
  });
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) await signIn(key);
  else showSignIn();
}

function showSignIn(message?: string): void {
  document.body.dataset.state = 'signed-out';
  byId('signin').hidden = false;
  byId('app').hidden = true;
  byId('sign-out').hidden = true;
  byId('who').textContent = '';
  const error = byId('signin-error');
  error.textContent = message ?? '';
  byId('api-key').focus();
}

async function signIn(key: string): Promise<void> {
  if (key === '') {
    showSignIn('Paste an API key: the admin key the server printed at its first start, or a tenant key.');
    return;
  }
  const api = new Api(key);
  let me: WhoAmI;
  try {
    me = await api.me();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    showSignIn(messageOf(error));
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  byId<HTMLInputElement>('api-key').value = '';
  state = {
    api,
    me,
    scopes: undefined,
    scope: undefined,
    view: 'memories',
    query: '',
    filter: undefined,
    items: [],
    nextCursor: undefined,
    selected: undefined,
    generation: 0,
  };
  document.body.dataset.state = 'signed-in';
  byId('signin').hidden = true;
  byId('app').hidden = false;
  byId('sign-out').hidden = false;
  byId('who').textContent = `${me.key.id}${me.key.admin ? ' (admin)' : ''}`;
  byId('tab-graph').hidden = !me.server.graph;
  byId('import').hidden = !me.server.import;
  // Without a list of scopes, ids are the only way in.
  byId<HTMLDetailsElement>('custom-scope-box').open = !me.server.scopes;
  const fromHash = scopeFromHash();
  const view = new URLSearchParams(location.hash.slice(1)).get('view');
  await loadScopes();
  if (fromHash) selectScope(fromHash, view === 'graph' || view === 'usage' ? view : 'memories');
  else if (state.scopes && state.scopes.length > 0) selectScope(state.scopes[0]!.scope);
  else {
    prefillCustomScope(me);
    setStatus(
      me.server.scopes
        ? 'No memories yet: add one, import a file, or choose a scope below.'
        : 'Choose a scope by its ids (this store cannot list its scopes).',
    );
    document.body.dataset.ready = 'list';
  }
}

function signOut(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  state = undefined;
  history.replaceState(null, '', location.pathname);
  byId('results').replaceChildren();
  byId('scope-list').replaceChildren();
  byId('detail').replaceChildren();
  showSignIn();
}

function prefillCustomScope(me: WhoAmI): void {
  for (const field of SCOPE_FIELDS) {
    const allowed = me.key[`${field}s`];
    byId<HTMLInputElement>(`custom-${field}`).value = allowed !== '*' && allowed.length === 1 ? allowed[0]! : '';
  }
}

// ---------------------------------------------------------------------------------------------
// Scopes

function scopeFromHash(): Scope | undefined {
  const params = new URLSearchParams(location.hash.slice(1));
  const scope: Scope = {};
  for (const field of SCOPE_FIELDS) {
    const value = params.get(HASH_KEYS[field]);
    if (value) scope[field] = value;
  }
  return Object.keys(scope).length > 0 ? scope : undefined;
}

function sameScope(a: Scope | undefined, b: Scope | undefined): boolean {
  return a !== undefined && b !== undefined && SCOPE_FIELDS.every((field) => a[field] === b[field]);
}

async function loadScopes(): Promise<void> {
  const current = state!;
  const list = byId('scope-list');
  if (!current.me.server.scopes) {
    list.replaceChildren(h('p', { class: 'hint' }, 'This vector store cannot list its scopes: choose one by its ids.'));
    return;
  }
  try {
    const { scopes, truncated } = await current.api.scopes();
    current.scopes = scopes;
    renderScopes(truncated);
  } catch (error) {
    list.replaceChildren(h('p', { class: 'error' }, messageOf(error)));
  }
}

/** Scope entries: each user with the total of its memories, then its narrower scopes; then scopes without a user. */
function renderScopes(truncated = false): void {
  const current = state!;
  const scopes = current.scopes ?? [];
  const users = new Map<string, ScopeCount[]>();
  const others: ScopeCount[] = [];
  for (const entry of scopes) {
    if (entry.scope.userId === undefined) others.push(entry);
    else users.set(entry.scope.userId, [...(users.get(entry.scope.userId) ?? []), entry]);
  }
  const button = (scope: Scope, label: string, count: number, nested: boolean) =>
    h(
      'li',
      { class: nested ? 'nested' : '' },
      h(
        'button',
        {
          class: 'scope',
          attrs: {
            type: 'button',
            'aria-current': sameScope(scope, current.scope) ? 'true' : undefined,
            'data-scope': JSON.stringify(scope),
          },
          on: { click: () => selectScope(scope) },
        },
        h('span', { class: 'scope-name' }, label),
        h('span', { class: 'count', attrs: { 'aria-label': `${count} memories` } }, String(count)),
      ),
    );
  const items: HTMLLIElement[] = [];
  for (const [userId, entries] of users) {
    const total = entries.reduce((sum, entry) => sum + entry.count, 0);
    items.push(button({ userId }, `user ${userId}`, total, false));
    for (const entry of entries) {
      if (entry.scope.agentId === undefined && entry.scope.runId === undefined) continue;
      items.push(button(entry.scope, scopeLabel({ agentId: entry.scope.agentId, runId: entry.scope.runId } as Scope), entry.count, true));
    }
  }
  for (const entry of others) items.push(button(entry.scope, scopeLabel(entry.scope), entry.count, false));
  byId('scope-list').replaceChildren(
    items.length > 0 ? h('ul', {}, ...items) : h('p', { class: 'hint' }, 'No memories this key may read yet.'),
    ...(truncated ? [h('p', { class: 'hint' }, 'More scopes exist than are listed: choose one by its ids below.')] : []),
  );
}

function countOf(scope: Scope): number | undefined {
  if (!state?.scopes) return undefined;
  return state.scopes
    .filter((entry) => SCOPE_FIELDS.every((field) => scope[field] === undefined || scope[field] === entry.scope[field]))
    .reduce((sum, entry) => sum + entry.count, 0);
}

function selectScope(scope: Scope, view: View = state?.view ?? 'memories'): void {
  const current = state!;
  current.scope = scope;
  current.selected = undefined;
  const params = new URLSearchParams();
  for (const field of SCOPE_FIELDS) if (scope[field] !== undefined) params.set(HASH_KEYS[field], scope[field]!);
  if (view !== 'memories') params.set('view', view);
  history.replaceState(null, '', `#${params.toString()}`);
  for (const field of SCOPE_FIELDS) byId<HTMLInputElement>(`custom-${field}`).value = scope[field] ?? '';
  byId('scope-title').textContent = scopeLabel(scope);
  for (const element of document.querySelectorAll<HTMLButtonElement>('button.scope')) {
    if (sameScope(JSON.parse(element.dataset.scope ?? '{}') as Scope, scope)) element.setAttribute('aria-current', 'true');
    else element.removeAttribute('aria-current');
  }
  renderDetail();
  showView(view);
  void runQuery();
}

// ---------------------------------------------------------------------------------------------
// Views

function showView(view: View): void {
  const current = state;
  if (!current) return;
  current.view = view;
  for (const name of ['memories', 'graph', 'usage'] as const) {
    byId(`view-${name}`).hidden = name !== view;
    byId(`tab-${name}`).setAttribute('aria-selected', String(name === view));
  }
  if (current.scope) {
    const params = new URLSearchParams(location.hash.slice(1));
    if (view === 'memories') params.delete('view');
    else params.set('view', view);
    history.replaceState(null, '', `#${params.toString()}`);
  }
  if (view === 'usage') void showUsage();
  if (view === 'graph' && current.scope && byId('graph-picture').childElementCount === 0) {
    const seed = current.selected?.text ?? byId<HTMLInputElement>('graph-query').value.trim();
    if (seed) void showGraph(seed);
  }
}

/** Reads the query and filter boxes, then lists the scope (newest first) or searches it. */
async function runQuery(): Promise<void> {
  const current = state;
  if (!current?.scope) return;
  const filterText = byId<HTMLInputElement>('filter').value.trim();
  let filter: unknown;
  if (filterText !== '') {
    try {
      filter = JSON.parse(filterText);
    } catch {
      setStatus('The filter is not JSON. Write it in the filter language, e.g. {"category": "food"} or {"rating": {"$gte": 3}}.', 'error');
      return;
    }
  }
  current.query = byId<HTMLInputElement>('query').value.trim();
  current.filter = filter;
  current.items = [];
  current.nextCursor = undefined;
  const generation = ++current.generation;
  byId('results').setAttribute('aria-busy', 'true');
  try {
    if (current.query !== '') {
      const response = await current.api.search(current.scope, current.query, { limit: 20, ...(filter === undefined ? {} : { filter }) });
      if (generation !== current.generation) return;
      current.items = response.results;
      setStatus(
        `${response.results.length} ${response.results.length === 1 ? 'memory matches' : 'memories match'} “${current.query}”, best first.`,
      );
    } else {
      const page = await current.api.list(current.scope, {
        pageSize: PAGE_SIZE,
        order: 'newest',
        ...(filter === undefined ? {} : { filter }),
      });
      if (generation !== current.generation) return;
      current.items = page.results;
      current.nextCursor = page.nextCursor;
      const total = filter === undefined ? countOf(current.scope) : undefined;
      setStatus(
        page.results.length === 0
          ? filter === undefined
            ? 'No memories in this scope.'
            : 'No memory matches the filter.'
          : `${total === undefined ? '' : `${total} ${total === 1 ? 'memory' : 'memories'}, `}newest first${filter === undefined ? '' : ', filtered'}.`,
      );
    }
  } catch (error) {
    if (generation !== current.generation) return;
    setStatus(messageOf(error), 'error');
  } finally {
    if (generation === current.generation) {
      renderResults();
      byId('results').removeAttribute('aria-busy');
      document.body.dataset.ready = 'list';
      performance.mark('mem:list-rendered');
    }
  }
}

async function loadMore(): Promise<void> {
  const current = state;
  if (!current?.scope || current.nextCursor === undefined) return;
  const generation = current.generation;
  try {
    const page = await current.api.list(current.scope, {
      pageSize: PAGE_SIZE,
      order: 'newest',
      cursor: current.nextCursor,
      ...(current.filter === undefined ? {} : { filter: current.filter }),
    });
    if (generation !== current.generation) return;
    const first = current.items.length;
    current.items.push(...page.results);
    current.nextCursor = page.nextCursor;
    renderResults();
    // Keep the keyboard where the reader was: on the first new memory.
    byId('results').querySelectorAll<HTMLElement>('.memory')[first]?.querySelector<HTMLElement>('button')?.focus();
  } catch (error) {
    setStatus(messageOf(error), 'error');
  }
}

function metadataList(metadata: Metadata): HTMLElement | null {
  const entries = Object.entries(metadata);
  if (entries.length === 0) return null;
  return h(
    'ul',
    { class: 'metadata', attrs: { 'aria-label': 'metadata' } },
    ...entries.map(([key, value]) =>
      h('li', {}, h('span', { class: 'key' }, key), ' ', Array.isArray(value) ? value.join(', ') : String(value)),
    ),
  );
}

function renderResults(): void {
  const current = state!;
  const rows = current.items.map((item) => {
    const score = 'score' in item ? item : undefined;
    return h(
      'li',
      { class: current.selected?.id === item.id ? 'memory selected' : 'memory', attrs: { 'data-id': item.id } },
      h('p', { class: 'text' }, item.text),
      score
        ? h(
            'p',
            { class: 'score' },
            `score ${score.score.toFixed(3)}`,
            score.keywordScore === undefined ? '' : ` · keyword ${score.keywordScore.toFixed(2)}`,
            score.rerankScore === undefined ? '' : ` · rerank ${score.rerankScore.toFixed(3)}`,
          )
        : null,
      h(
        'p',
        { class: 'dates' },
        h('span', {}, 'occurred ', h('time', { attrs: { datetime: item.occurredAt } }, formatDate(item.occurredAt))),
        h('span', {}, 'created ', h('time', { attrs: { datetime: item.createdAt } }, formatDate(item.createdAt))),
        item.updatedAt === item.createdAt
          ? null
          : h('span', {}, 'updated ', h('time', { attrs: { datetime: item.updatedAt } }, formatDate(item.updatedAt))),
      ),
      metadataList(item.metadata),
      sameScope(item.scope, current.scope) ? null : h('p', { class: 'item-scope' }, scopeLabel(item.scope)),
      h(
        'div',
        { class: 'row-actions' },
        h(
          'button',
          { attrs: { type: 'button', 'aria-label': `History of: ${item.text.slice(0, 60)}` }, on: { click: () => void openHistory(item) } },
          'History',
        ),
        h('button', { attrs: { type: 'button' }, on: { click: () => openEdit(item) } }, 'Edit'),
        h('button', { class: 'danger', attrs: { type: 'button' }, on: { click: () => openDelete(item) } }, 'Delete'),
        current.me.server.graph ? h('button', { attrs: { type: 'button' }, on: { click: () => graphOf(item) } }, 'Graph') : null,
      ),
    );
  });
  byId('results').replaceChildren(...rows);
  byId('more').hidden = current.nextCursor === undefined || current.query !== '';
}

// ---------------------------------------------------------------------------------------------
// History

async function openHistory(item: MemoryItem): Promise<void> {
  const current = state!;
  current.selected = item;
  for (const row of document.querySelectorAll('.memory')) row.classList.toggle('selected', (row as HTMLElement).dataset.id === item.id);
  const detail = byId('detail');
  detail.classList.remove('idle');
  detail.replaceChildren(h('h2', { attrs: { id: 'detail-title', tabindex: -1 } }, 'History'), h('p', { class: 'hint' }, 'Loading…'));
  try {
    const { results } = await current.api.history(current.scope!, item.id);
    detail.replaceChildren(
      h('h2', { attrs: { id: 'detail-title', tabindex: -1 } }, 'History'),
      h('p', { class: 'memory-id' }, 'memory ', h('code', {}, item.id)),
      results.length === 0
        ? h('p', { class: 'hint' }, 'No history in this scope.')
        : h(
            'ol',
            { class: 'timeline' },
            ...results.map((event) =>
              h(
                'li',
                { class: `event ${event.kind.toLowerCase()}` },
                h(
                  'p',
                  { class: 'event-head' },
                  h('span', { class: 'kind' }, event.kind),
                  ' ',
                  h('time', { attrs: { datetime: event.validAt } }, formatDate(event.validAt)),
                  h('span', { class: 'actor' }, ` by ${event.actor}`),
                ),
                event.previousText !== null && event.kind !== 'ADD'
                  ? h(
                      'p',
                      { class: 'previous' },
                      h('del', {}, event.previousText),
                      h('span', { class: 'until' }, ` true until ${formatDate(event.validAt)}`),
                    )
                  : null,
                event.text !== null ? h('p', { class: 'new' }, event.text) : h('p', { class: 'new gone' }, 'deleted'),
                event.createdAt === event.validAt ? null : h('p', { class: 'recorded' }, `recorded ${formatDate(event.createdAt)}`),
              ),
            ),
          ),
    );
  } catch (error) {
    detail.replaceChildren(
      h('h2', { attrs: { id: 'detail-title', tabindex: -1 } }, 'History'),
      h('p', { class: 'error', attrs: { role: 'alert' } }, messageOf(error)),
    );
  }
  const title = byId('detail-title');
  title.focus({ preventScroll: true });
  title.scrollIntoView({ block: 'nearest' });
}

function renderDetail(): void {
  byId('detail').classList.add('idle');
  byId('detail').replaceChildren(
    h('h2', { attrs: { id: 'detail-title', tabindex: -1 } }, 'History'),
    h('p', { class: 'hint' }, 'Choose “History” on a memory to see how it changed.'),
  );
}

// ---------------------------------------------------------------------------------------------
// Dialogs: add, edit, delete, delete all

function dialog(
  title: string,
  body: HTMLElement[],
  confirm: { label: string; danger?: boolean; run: (report: (message: string) => void) => Promise<boolean> },
): void {
  const element = byId<HTMLDialogElement>('dialog');
  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const opener = document.activeElement as HTMLElement | null;
  const form = h(
    'form',
    {
      class: 'dialog-form',
      attrs: { method: 'dialog' },
      on: {
        submit: (event) => {
          event.preventDefault();
          const submit = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
          submit.disabled = true;
          error.textContent = '';
          confirm
            .run((message) => (error.textContent = message))
            .then((done) => {
              submit.disabled = false;
              if (done) element.close();
            });
        },
      },
    },
    h('h2', {}, title),
    ...body,
    error,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { attrs: { type: 'button' }, on: { click: () => element.close() } }, 'Cancel'),
      h('button', { class: confirm.danger ? 'danger' : 'primary', attrs: { type: 'submit' } }, confirm.label),
    ),
  );
  element.replaceChildren(form);
  element.addEventListener('close', () => opener?.isConnected && opener.focus(), { once: true });
  element.showModal();
}

function parseMetadata(text: string, report: (message: string) => void): Metadata | undefined | false {
  if (text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Metadata;
  } catch {
    report('Metadata must be a JSON object, e.g. {"category": "food", "rating": 4}.');
    return false;
  }
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), control, hint ? h('small', {}, hint) : null);
}

function openAdd(): void {
  const current = state!;
  if (!current.scope) return;
  const text = h('textarea', { attrs: { name: 'text', rows: 3, required: true } });
  const metadata = h('textarea', { attrs: { name: 'metadata', rows: 2, placeholder: '{"category": "food"}' } });
  const occurredAt = h('input', { attrs: { name: 'occurredAt', placeholder: '2024-05-08T10:00:00Z' } });
  const infer = h('input', { attrs: { type: 'checkbox', name: 'infer' } });
  dialog(
    `Add a memory to ${scopeLabel(current.scope)}`,
    [
      field('Text', text),
      field('Metadata (JSON, optional)', metadata),
      field('Occurred at (optional)', occurredAt, 'ISO 8601; default: now.'),
      current.me.server.llm
        ? h('label', { class: 'check' }, infer, ' Extract facts with the LLM instead of storing the text as given')
        : null,
    ].filter((element): element is HTMLElement => element !== null),
    {
      label: 'Add',
      run: async (report) => {
        const parsed = parseMetadata(metadata.value, report);
        if (parsed === false) return false;
        try {
          const result = await current.api.add(current.scope!, text.value, {
            infer: infer.checked,
            ...(parsed ? { metadata: parsed } : {}),
            ...(occurredAt.value.trim() ? { occurredAt: occurredAt.value.trim() } : {}),
          });
          await refreshAfterChange(`Added: ${result.events.map((event) => event.kind).join(', ') || 'nothing new'}.`);
          return true;
        } catch (error) {
          report(messageOf(error));
          return false;
        }
      },
    },
  );
}

function openEdit(item: MemoryItem): void {
  const current = state!;
  const text = h('textarea', { attrs: { name: 'text', rows: 3, required: true } });
  text.value = item.text;
  const metadata = h('textarea', { attrs: { name: 'metadata', rows: 3 } });
  metadata.value = JSON.stringify(item.metadata);
  dialog(
    'Edit memory',
    [
      field('Text', text),
      field('Metadata (JSON)', metadata, 'Keys are merged into the stored ones: a key is changed or added, never removed.'),
    ],
    {
      label: 'Save',
      run: async (report) => {
        const parsed = parseMetadata(metadata.value, report);
        if (parsed === false) return false;
        const change: { text?: string; metadata?: Metadata } = {};
        if (text.value !== item.text) change.text = text.value;
        if (parsed && JSON.stringify(parsed) !== JSON.stringify(item.metadata)) change.metadata = parsed;
        if (Object.keys(change).length === 0) return true;
        try {
          const { memory } = await current.api.update(current.scope!, item.id, change);
          current.items = current.items.map((existing) => (existing.id === item.id ? { ...existing, ...memory } : existing));
          renderResults();
          setStatus('Saved. The history of the memory shows the change.');
          if (current.selected?.id === item.id) await openHistory(memory);
          return true;
        } catch (error) {
          report(messageOf(error));
          return false;
        }
      },
    },
  );
}

function openDelete(item: MemoryItem): void {
  const current = state!;
  dialog('Delete this memory?', [h('blockquote', {}, item.text), h('p', {}, 'Its history is kept.')], {
    label: 'Delete',
    danger: true,
    run: async (report) => {
      try {
        const { deleted } = await current.api.remove(current.scope!, item.id);
        await refreshAfterChange(deleted ? 'Deleted. Its history is kept.' : 'It was already gone.');
        return true;
      } catch (error) {
        report(messageOf(error));
        return false;
      }
    },
  });
}

/** Counts the memories of a scope by paging through it (for stores that cannot list their scopes). */
async function countByPaging(scope: Scope): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await state!.api.list(scope, { pageSize: 1000, order: 'oldest', ...(cursor ? { cursor } : {}) });
    count += page.results.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}

async function openDeleteAll(): Promise<void> {
  const current = state!;
  if (!current.scope) return;
  let count: number;
  try {
    count = countOf(current.scope) ?? (await countByPaging(current.scope));
  } catch (error) {
    setStatus(messageOf(error), 'error');
    return;
  }
  const label = scopeLabel(current.scope);
  dialog(
    `Delete all ${count} ${count === 1 ? 'memory' : 'memories'} of ${label}?`,
    [h('p', {}, `Every memory of ${label} is deleted, ${count} in all (their history is kept). This cannot be undone.`)],
    {
      label: `Delete ${count} ${count === 1 ? 'memory' : 'memories'}`,
      danger: true,
      run: async (report) => {
        try {
          const { deleted } = await current.api.removeAll(current.scope!);
          await refreshAfterChange(`Deleted ${deleted} ${deleted === 1 ? 'memory' : 'memories'}.`);
          return true;
        } catch (error) {
          report(messageOf(error));
          return false;
        }
      },
    },
  );
}

/** Reloads the scopes (their counts changed) and the list, then says what was done. */
async function refreshAfterChange(done: string): Promise<void> {
  await loadScopes();
  await runQuery();
  setStatus(done);
}

// ---------------------------------------------------------------------------------------------
// Import and export (JSONL, the lines of `mem export`)

async function exportScope(): Promise<void> {
  const current = state!;
  if (!current.scope) return;
  const lines: string[] = [];
  let cursor: string | undefined;
  try {
    do {
      const page = await current.api.list(current.scope, { pageSize: 1000, order: 'oldest', ...(cursor ? { cursor } : {}) });
      for (const item of page.results) lines.push(JSON.stringify(item));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  } catch (error) {
    setStatus(messageOf(error), 'error');
    return;
  }
  const url = URL.createObjectURL(
    new Blob(
      lines.map((line) => `${line}\n`),
      { type: 'application/x-ndjson' },
    ),
  );
  const name = `mem-${SCOPE_FIELDS.filter((field) => current.scope![field] !== undefined)
    .map((field) => `${SCOPE_LABELS[field]}-${current.scope![field]}`)
    .join('-')
    .replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`;
  const link = h('a', { attrs: { href: url, download: name } });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  setStatus(`Exported ${lines.length} ${lines.length === 1 ? 'memory' : 'memories'} to ${name}.`);
}

async function importFile(input: HTMLInputElement): Promise<void> {
  const current = state!;
  const file = input.files?.[0];
  input.value = '';
  if (!file || !current.scope) return;
  const text = await file.text();
  const records: { line: number; record: ImportRecord }[] = [];
  const adds: { line: number; text: string; metadata?: Metadata; occurredAt?: string; scope: Scope }[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    } catch {
      setStatus(
        `Line ${index + 1} is not a JSON object. Import expects JSONL: one memory (as exported) or { "messages": "…" } per line.`,
        'error',
      );
      return;
    }
    const scope = typeof value.scope === 'object' && value.scope !== null ? (value.scope as Scope) : current.scope;
    if (typeof value.text === 'string') {
      const { hash: _hash, ...record } = value as unknown as ImportRecord & { hash?: string };
      records.push({ line: index + 1, record: { ...record, scope } });
    } else if (typeof value.messages === 'string') {
      adds.push({
        line: index + 1,
        text: value.messages,
        scope,
        ...(typeof value.metadata === 'object' && value.metadata !== null ? { metadata: value.metadata as Metadata } : {}),
        ...(typeof value.occurredAt === 'string' ? { occurredAt: value.occurredAt } : {}),
      });
    } else {
      setStatus(`Line ${index + 1} has neither "text" (an exported memory) nor "messages".`, 'error');
      return;
    }
  }
  let added = 0;
  let updated = 0;
  try {
    for (let start = 0; start < records.length; start += IMPORT_BATCH) {
      const batch = records.slice(start, start + IMPORT_BATCH);
      try {
        const result = await current.api.importRecords(batch.map((entry) => entry.record));
        added += result.added;
        updated += result.updated;
      } catch (error) {
        // The API names records[i]…: say which line of the file that is.
        const match = error instanceof ApiError && error.field ? /^records\[(\d+)\]/.exec(error.field) : null;
        const line = match ? batch[Number(match[1])]?.line : undefined;
        throw new Error(
          `${line === undefined ? `Lines ${batch[0]!.line}-${batch[batch.length - 1]!.line}` : `Line ${line}`}: ${messageOf(error)}`,
        );
      }
    }
    for (const entry of adds) {
      try {
        await current.api.add(entry.scope, entry.text, {
          infer: false,
          ...(entry.metadata ? { metadata: entry.metadata } : {}),
          ...(entry.occurredAt ? { occurredAt: entry.occurredAt } : {}),
        });
        added += 1;
      } catch (error) {
        throw new Error(`Line ${entry.line}: ${messageOf(error)}`);
      }
    }
  } catch (error) {
    setStatus(`${messageOf(error)} (${added + updated} imported before it.)`, 'error');
    await loadScopes();
    return;
  }
  await refreshAfterChange(
    `Imported ${added + updated} ${added + updated === 1 ? 'memory' : 'memories'} from ${file.name}: ${added} added, ${updated} updated.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Graph

function graphOf(item: MemoryItem): void {
  const current = state!;
  current.selected = item;
  byId<HTMLInputElement>('graph-query').value = item.text;
  showView('graph');
  void showGraph(item.text);
}

async function showGraph(query: string): Promise<void> {
  const current = state;
  if (!current?.scope || query === '') return;
  byId<HTMLInputElement>('graph-query').value = query;
  const picture = byId('graph-picture');
  const status = byId('graph-status');
  try {
    const response = await current.api.search(current.scope, query, { limit: 1, relationLimit: 40, includeInvalidRelations: true });
    const relations = response.relations ?? [];
    const seeds = new Set((response.entities ?? []).map((entity) => entity.name));
    if (relations.length === 0) {
      picture.replaceChildren(h('p', { class: 'hint' }, 'No relations around this yet.'));
      byId('graph-table').replaceChildren();
      status.textContent =
        seeds.size > 0 ? `Entities found: ${[...seeds].join(', ')}; none has relations.` : 'No entity of the graph resembles this.';
      return;
    }
    const closed = relations.filter((relation) => relation.validTo !== null).length;
    status.textContent = `${relations.length} relations (${closed} closed) around ${[...seeds].join(', ') || 'the query'}. Choose an entity to go there.`;
    picture.replaceChildren(drawGraph(relations, seeds, (name) => void showGraph(name)));
    byId('graph-table').replaceChildren(relationTable(relations));
    document.body.dataset.ready = 'graph';
  } catch (error) {
    picture.replaceChildren();
    byId('graph-table').replaceChildren();
    status.textContent = messageOf(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Usage

async function showUsage(): Promise<void> {
  const current = state;
  if (!current) return;
  const target = byId('usage-body');
  try {
    const { entries, totals, requests, capacity } = await current.api.usage(100);
    const number = (value: number) => value.toLocaleString('en-US');
    target.replaceChildren(
      h(
        'p',
        { class: 'totals' },
        `${requests} ${requests === 1 ? 'request' : 'requests'} remembered (of the last ${capacity} the server keeps${current.me.key.admin ? ', every key' : `, key ${current.me.key.id}`}): `,
        `${number(totals.llmCalls)} LLM calls, ${number(totals.promptTokens)} prompt and ${number(totals.completionTokens)} completion tokens, ${number(totals.embeddingCalls)} embedding calls (${number(totals.embeddingTokens)} tokens).`,
      ),
      entries.length === 0
        ? h('p', { class: 'hint' }, 'No add, search, update or import yet since the server started.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'usage' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ...[
                    'when',
                    'operation',
                    'key',
                    'scope',
                    'ms',
                    'LLM calls',
                    'prompt tokens',
                    'completion tokens',
                    'embedding calls',
                    'embedding tokens',
                  ].map((name) => h('th', { attrs: { scope: 'col' } }, name)),
                ),
              ),
              h(
                'tbody',
                {},
                ...entries.map((entry) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, formatDate(entry.at)),
                    h('td', {}, entry.operation),
                    h('td', {}, entry.keyId),
                    h('td', {}, scopeLabel(entry.scope)),
                    h('td', { class: 'number' }, entry.durationMs.toFixed(1)),
                    h('td', { class: 'number' }, number(entry.usage.llmCalls)),
                    h('td', { class: 'number' }, number(entry.usage.promptTokens)),
                    h('td', { class: 'number' }, number(entry.usage.completionTokens)),
                    h('td', { class: 'number' }, number(entry.usage.embeddingCalls)),
                    h('td', { class: 'number' }, number(entry.usage.embeddingTokens)),
                  ),
                ),
              ),
            ),
          ),
    );
  } catch (error) {
    target.replaceChildren(h('p', { class: 'error' }, messageOf(error)));
  }
}
