/** The REST API as the memory browser calls it: the same endpoints, keys and checks as any client. */

export interface Scope {
  userId?: string;
  agentId?: string;
  runId?: string;
}
export type Metadata = Record<string, string | number | boolean | string[]>;
export interface MemoryItem {
  id: string;
  text: string;
  hash: string;
  metadata: Metadata;
  scope: Scope;
  createdAt: string;
  updatedAt: string;
  occurredAt: string;
}
export interface SearchResult extends MemoryItem {
  score: number;
  keywordScore?: number;
  rerankScore?: number;
}
export interface Relation {
  source: string;
  relation: string;
  target: string;
  scope: Scope;
  validFrom: string;
  validTo: string | null;
  score: number;
}
export interface Entity {
  name: string;
  type: string;
  scope: Scope;
  score: number;
}
export interface Usage {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  embeddingCalls: number;
  embeddingTokens: number;
}
export interface HistoryEvent {
  id: string;
  memoryId: string;
  kind: 'ADD' | 'UPDATE' | 'DELETE';
  previousText: string | null;
  text: string | null;
  scope: Scope;
  validAt: string;
  createdAt: string;
  actor: string;
}
export type Allowed = '*' | string[];
export interface WhoAmI {
  key: { id: string; userIds: Allowed; agentIds: Allowed; runIds: Allowed; admin: boolean };
  server: { llm: boolean; graph: boolean; scopes: boolean; import: boolean };
}
export interface ScopeCount {
  scope: Scope;
  count: number;
}
export interface UsageEntry {
  at: string;
  operation: string;
  keyId: string;
  scope: Scope;
  durationMs: number;
  usage: Usage;
}
export interface Page {
  results: MemoryItem[];
  nextCursor?: string;
}
export interface ImportRecord {
  id?: string;
  text: string;
  scope: Scope;
  metadata?: Metadata;
  createdAt?: string;
  updatedAt?: string;
  occurredAt?: string;
}

/** An error answered by the API, with its documented code and the field it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const SCOPE_FIELDS = ['userId', 'agentId', 'runId'] as const;

/** `userId=alice&agentId=…` for the ids a scope sets. */
export function scopeQuery(scope: Scope): string {
  const query = new URLSearchParams();
  for (const field of SCOPE_FIELDS) if (scope[field] !== undefined) query.set(field, scope[field]!);
  return query.toString();
}

/** A client of the REST API signed in with one key. */
export class Api {
  private readonly key: string;
  constructor(key: string) {
    this.key = key;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'INTERNAL', `The server answered ${response.status} with something that is not JSON.`);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? 'INTERNAL',
        error?.message ?? `The server answered ${response.status}.`,
        error?.field,
      );
    }
    return parsed as T;
  }

  me() {
    return this.call<WhoAmI>('GET', '/v1/me');
  }
  scopes() {
    return this.call<{ scopes: ScopeCount[]; truncated: boolean }>('GET', '/v1/scopes');
  }
  list(scope: Scope, options: { filter?: unknown; cursor?: string; pageSize: number; order: 'newest' | 'oldest' }) {
    return this.call<Page>('POST', '/v1/memories/list', {
      scope,
      pageSize: options.pageSize,
      order: options.order,
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    });
  }
  search(
    scope: Scope,
    query: string,
    options: { filter?: unknown; limit: number; relationLimit?: number; includeInvalidRelations?: boolean },
  ) {
    return this.call<{ results: SearchResult[]; relations?: Relation[]; entities?: Entity[]; usage: Usage }>('POST', '/v1/search', {
      query,
      scope,
      limit: options.limit,
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      ...(options.relationLimit === undefined ? {} : { relationLimit: options.relationLimit }),
      ...(options.includeInvalidRelations === undefined ? {} : { includeInvalidRelations: options.includeInvalidRelations }),
    });
  }
  add(scope: Scope, text: string, options: { metadata?: Metadata; occurredAt?: string; infer: boolean }) {
    return this.call<{ events: { kind: string; id: string; text: string }[]; memories: MemoryItem[]; usage: Usage }>(
      'POST',
      '/v1/memories',
      {
        messages: text,
        scope,
        infer: options.infer,
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.occurredAt ? { occurredAt: options.occurredAt } : {}),
      },
    );
  }
  update(scope: Scope, id: string, change: { text?: string; metadata?: Metadata }) {
    return this.call<{ memory: MemoryItem }>('PATCH', `/v1/memories/${encodeURIComponent(id)}?${scopeQuery(scope)}`, change);
  }
  remove(scope: Scope, id: string) {
    return this.call<{ deleted: boolean }>('DELETE', `/v1/memories/${encodeURIComponent(id)}?${scopeQuery(scope)}`);
  }
  removeAll(scope: Scope) {
    return this.call<{ deleted: number }>('DELETE', `/v1/memories?${scopeQuery(scope)}`);
  }
  history(scope: Scope, id: string) {
    return this.call<{ results: HistoryEvent[] }>('GET', `/v1/history/${encodeURIComponent(id)}?${scopeQuery(scope)}`);
  }
  importRecords(records: ImportRecord[]) {
    return this.call<{ added: number; updated: number }>('POST', '/v1/memories/import', { records });
  }
  usage(limit: number) {
    return this.call<{ entries: UsageEntry[]; totals: Usage; requests: number; capacity: number }>('GET', `/v1/usage?limit=${limit}`);
  }
}
