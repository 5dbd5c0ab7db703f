import { INPUT_LIMITS, type CategoryDefinition, type ChatMessage, type FilterInput, type Metadata } from '@mem/core';
import { MAX_IMAGE_URL_LENGTH } from '@mem/core/adapter';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The schemas of the REST API. The same objects validate requests (Ajv, in `app.ts`) and make the
 * OpenAPI 3.1 document (`openapi.ts`), so the document cannot drift from what the server accepts.
 *
 * A schema with an `$id` is a component: others refer to it with `Type.Ref(name)` (`{ $ref: name }`),
 * which the document rewrites to `#/components/schemas/<name>`.
 *
 * Length limits: JSON Schema counts characters (code points), core counts UTF-16 units. A short
 * field (ids, names) therefore documents half of core's limit, so every request the document allows
 * is accepted; long texts keep core's limit (a text that long in astral characters is rejected by core
 * with INVALID_INPUT naming the field).
 */

/** A string with at least one character that is not whitespace (core trims before checking emptiness). */
const NOT_BLANK = '[^\\s\\ufeff]';
/** Scope ids: printable (no control characters). */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]+$';
/** Metadata keys and filter fields. */
const FIELD_NAME = '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$';
const DATE_FIELDS = ['createdAt', 'updatedAt', 'occurredAt'] as const;
/** Fields a filter compares as dates: the date fields and the expiry. */
const FILTER_DATE_FIELDS = [...DATE_FIELDS, 'expiresAt'] as const;
const RESERVED_METADATA_KEYS = ['userId', 'agentId', 'runId', ...FILTER_DATE_FIELDS, 'memoryType', 'categories', 'id', 'text', 'hash'];

/** Longest id (memory ids, scope ids, cursors) the API documents. */
export const MAX_ID_CHARACTERS = INPUT_LIMITS.maxIdLength / 2;
/** Longest filter string the API documents. */
const MAX_FILTER_STRING = 512;

/** A string enum as `{ type: 'string', enum }` (clearer errors and documents than an anyOf of constants). */
function StringEnum<T extends string>(values: readonly T[], options: { description?: string } = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

const IdString = (description: string) => Type.String({ minLength: 1, maxLength: MAX_ID_CHARACTERS, pattern: NOT_BLANK, description });
const ScopeId = (description: string) => Type.String({ minLength: 1, maxLength: MAX_ID_CHARACTERS, pattern: PRINTABLE, description });

/** Who a memory belongs to. At least one id; a key restricted to one value of a field fills it in when it is left out. */
export const ScopeSchema = Type.Object(
  {
    userId: Type.Optional(ScopeId('The user the memories belong to.')),
    agentId: Type.Optional(ScopeId('The agent (assistant) the memories belong to.')),
    runId: Type.Optional(ScopeId('One session or conversation.')),
  },
  {
    $id: 'Scope',
    additionalProperties: false,
    description:
      'Who a memory belongs to. A call sees the memories whose ids equal every id it sets. Ids the API key pins to a single value may be left out and are filled in from the key.',
  },
);

/** The scope of a stored memory or event (as returned; at least one id is set). */
export const StoredScopeSchema = Type.Object(
  {
    userId: Type.Optional(Type.String()),
    agentId: Type.Optional(Type.String()),
    runId: Type.Optional(Type.String()),
  },
  { $id: 'StoredScope', additionalProperties: false },
);

const MetadataValue = Type.Union([
  Type.String({ maxLength: INPUT_LIMITS.maxMetadataStringLength }),
  Type.Number(),
  Type.Boolean(),
  Type.Array(Type.String({ maxLength: INPUT_LIMITS.maxMetadataStringLength }), {
    minItems: 1,
    maxItems: INPUT_LIMITS.maxMetadataArrayLength,
  }),
]);

/** User metadata sent in a request. */
export const MetadataInputSchema = Type.Object(
  {},
  {
    $id: 'MetadataInput',
    additionalProperties: MetadataValue,
    maxProperties: INPUT_LIMITS.maxMetadataKeys,
    propertyNames: { pattern: FIELD_NAME, not: { enum: RESERVED_METADATA_KEYS } },
    description:
      'Up to 64 keys (letters, digits, "_", "-", "."; not a scope or date field, expiresAt, memoryType, categories, id, text or hash) with a string, number, boolean or non-empty string array value.',
  },
);

/** User metadata as stored. */
export const MetadataSchema = Type.Object({}, { $id: 'Metadata', additionalProperties: MetadataValue });

// ---------------------------------------------------------------------------------------------
// Filters (the FilterInput language of @mem/core), recursive through the `Filter` component.

const FilterScalar = Type.Union([Type.String({ maxLength: MAX_FILTER_STRING }), Type.Number(), Type.Boolean()]);
const DateValue = Type.Union([Type.Number({ description: 'Epoch milliseconds' }), Type.String({ format: 'date-time' })]);

const operators = (scalar: TSchema, range: TSchema) =>
  Type.Object(
    {
      $eq: Type.Optional(scalar),
      $ne: Type.Optional(scalar),
      $in: Type.Optional(Type.Array(scalar, { minItems: 1, maxItems: 1000 })),
      $nin: Type.Optional(Type.Array(scalar, { minItems: 1, maxItems: 1000 })),
      $gt: Type.Optional(range),
      $gte: Type.Optional(range),
      $lt: Type.Optional(range),
      $lte: Type.Optional(range),
      $contains: Type.Optional(Type.String({ maxLength: MAX_FILTER_STRING })),
    },
    { additionalProperties: false, minProperties: 1 },
  );

const FieldCondition = Type.Union([FilterScalar, operators(FilterScalar, Type.Number())]);
const DateCondition = Type.Union([DateValue, operators(DateValue, DateValue)]);

/**
 * A metadata filter: `{ category: "food" }`, `{ rating: { $gte: 3 } }`,
 * `{ $or: [{ city: "Lisbon" }, { tags: { $contains: "travel" } }] }`, `{ occurredAt: { $gte: "2024-05-01T00:00:00Z" } }`.
 */
export const FilterSchema = Type.Unsafe<FilterInput>({
  $id: 'Filter',
  type: 'object',
  minProperties: 1,
  description:
    'Metadata filter in the style of MongoDB: a field (metadata key, createdAt/updatedAt/occurredAt/expiresAt, or userId/agentId/runId) with a value or operators ($eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $contains), combined with $and, $or, $not. Several conditions in one object must all hold. At most 8 levels and 256 conditions.',
  properties: {
    $and: { type: 'array', minItems: 1, maxItems: 64, items: { $ref: 'Filter' } },
    $or: { type: 'array', minItems: 1, maxItems: 64, items: { $ref: 'Filter' } },
    $not: { $ref: 'Filter' },
    ...Object.fromEntries(FILTER_DATE_FIELDS.map((field) => [field, DateCondition])),
  },
  patternProperties: {
    [`^(?!(?:${FILTER_DATE_FIELDS.join('|')})$)[A-Za-z_][A-Za-z0-9_.-]{0,63}$`]: FieldCondition,
  },
  additionalProperties: false,
});

// ---------------------------------------------------------------------------------------------
// Requests

/** One tool call of an assistant message (an agent's run). */
export const ToolCallSchema = Type.Object(
  {
    id: Type.Optional(IdString('The call id, which the tool message with its result names as toolCallId.')),
    name: Type.String({ minLength: 1, maxLength: 64, pattern: NOT_BLANK, description: 'The tool\'s name, e.g. "search_flights".' }),
    arguments: Type.Optional(
      Type.Union([Type.String({ maxLength: INPUT_LIMITS.maxMessageLength }), Type.Object({})], {
        description: 'The arguments: JSON text, or an object (serialised to JSON).',
      }),
    ),
  },
  { $id: 'ToolCall', additionalProperties: false },
);

/**
 * An http(s) image URL as core accepts it: host labels of letters, digits and single hyphens (no
 * address or punycode the URL parser could refuse), then a path. Stricter than core, like every
 * bound of the document.
 */
const HttpImageUrl = Type.String({
  maxLength: MAX_IMAGE_URL_LENGTH,
  pattern: "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z](?:-?[A-Za-z0-9])*(?:\\.[A-Za-z](?:-?[A-Za-z0-9])*)*(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/?#-]*)?$",
});

/**
 * A base64 data URL whose first bytes are the header of its media type (core checks them), in
 * groups of four characters, decoding to at most the default images.maxBytes.
 */
const DataImageUrl = Type.String({
  maxLength: 'data:image/png;base64,'.length + (INPUT_LIMITS.maxImageBytes / 3) * 4,
  pattern:
    '^data:image/(?:png;base64,iVBORw0KGgo[A-Za-z0-9+/]|jpeg;base64,/9j/|gif;base64,R0lGOD[dl]h|webp;base64,UklGR[g-v][A-Za-z0-9+/]{4}[BFJNRVZdhlptx159]XRUJQ)(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
});

/** One part of a message's content, in OpenAI's shape: a text, or an image by URL. */
export const ContentPartSchema = Type.Union(
  [
    Type.Object(
      { type: Type.Literal('text'), text: Type.String({ maxLength: INPUT_LIMITS.maxMessageLength }) },
      { additionalProperties: false, title: 'TextPart' },
    ),
    Type.Object(
      {
        type: Type.Literal('image_url'),
        image_url: Type.Object(
          {
            url: Type.Union([HttpImageUrl, DataImageUrl], {
              description:
                "An http(s) URL the model provider fetches, or a base64 data URL of a PNG, JPEG, GIF or WebP image (data:image/png;base64,…), at most the server's images.maxBytes once decoded (default 3,000,000; MEM_BODY_LIMIT bounds the whole request).",
            }),
            detail: Type.Optional(StringEnum(['auto', 'low', 'high'] as const, { description: 'How closely the model looks (OpenAI).' })),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, title: 'ImagePart' },
    ),
  ],
  {
    $id: 'ContentPart',
    description:
      'A text part, or an image part. Images are read only when the server is configured to (MEM_IMAGES=describe, with an LLM that sees images); otherwise they are left out and the response says so in notes. At most images.maxImages (default 10) per request.',
  },
);

const MessageContent = (nullable: boolean) =>
  Type.Union(
    [
      Type.String({ maxLength: INPUT_LIMITS.maxMessageLength }),
      Type.Array(Type.Ref('ContentPart'), {
        maxItems: INPUT_LIMITS.maxImages,
        description: 'Text and image parts, in order (core takes up to 100 parts; the document states the image limit).',
      }),
      ...(nullable ? [Type.Null()] : []),
    ],
    { description: 'The text of the message, or its content parts (OpenAI style).' },
  );
const SpeakerName = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: NOT_BLANK,
    description: 'Speaker name, e.g. "Caroline"; on a tool message, the tool\'s name.',
  }),
);
const ToolCalls = Type.Array(Type.Ref('ToolCall'), {
  minItems: 1,
  maxItems: INPUT_LIMITS.maxToolCalls,
  description: 'The tools the agent called.',
});

/**
 * One chat message, written per role as core checks it: only an assistant message carries
 * toolCalls (and may then have content null), only a tool message names a toolCallId.
 */
export const ChatMessageSchema = Type.Union(
  [
    Type.Object(
      { role: StringEnum(['user', 'system'] as const), content: MessageContent(false), name: SpeakerName },
      { additionalProperties: false, title: 'UserOrSystemMessage' },
    ),
    Type.Object(
      { role: Type.Literal('assistant'), content: MessageContent(false), name: SpeakerName, toolCalls: Type.Optional(ToolCalls) },
      { additionalProperties: false, title: 'AssistantMessage' },
    ),
    Type.Object(
      { role: Type.Literal('assistant'), content: Type.Null(), name: SpeakerName, toolCalls: ToolCalls },
      { additionalProperties: false, title: 'AssistantToolCallsMessage', description: 'An assistant message that only calls tools.' },
    ),
    Type.Object(
      {
        role: Type.Literal('tool'),
        content: MessageContent(false),
        name: SpeakerName,
        toolCallId: Type.Optional(IdString('The id of the tool call whose result this is.')),
      },
      { additionalProperties: false, title: 'ToolMessage' },
    ),
  ],
  { $id: 'ChatMessage', description: 'A message of the conversation: user, system, assistant (with its tool calls) or tool (a result).' },
);

/** A custom category extraction may assign. */
export const CategorySchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: INPUT_LIMITS.maxCategoryNameLength / 2,
      pattern: NOT_BLANK,
      description: 'Stored and filtered on (filter: { categories: name }); unique within the list, ignoring case.',
    }),
    description: Type.Optional(
      Type.String({ maxLength: INPUT_LIMITS.maxCategoryDescriptionLength / 2, description: 'What belongs in it, shown to the model.' }),
    ),
  },
  { $id: 'Category', additionalProperties: false },
);

/** A date in a request: RFC 3339, or epoch milliseconds. */
const DateInput = (description: string) =>
  Type.Union(
    // Years 0000-9999 only: beyond them a date has no RFC 3339 form, so responses could not carry it.
    [
      Type.String({ format: 'date-time' }),
      Type.Integer({ minimum: -62_167_219_200_000, maximum: 253_402_300_799_999, description: 'Epoch milliseconds (years 0000-9999)' }),
    ],
    { description },
  );
const OccurredAt = DateInput('When the conversation happened; relative dates resolve against it. Default: now.');
const ExpiresAt = DateInput(
  'When the memories expire: from then on search and list leave them out (unless includeExpired), GET by id still returns them, and POST /v1/memories/purge-expired deletes them. Default: never.',
);
const IncludeExpired = Type.Boolean({ description: 'Also return memories whose expiresAt has passed. Default: false.' });

/** Body of `POST /v1/memories`. `infer` is documented per server: without an LLM only `false` is accepted. */
export function addRequestSchema(hasLlm: boolean) {
  return Type.Object(
    {
      messages: Type.Union(
        [
          Type.String({ minLength: 1, maxLength: INPUT_LIMITS.maxMessageLength, pattern: NOT_BLANK, description: 'One user message.' }),
          Type.Array(Type.Ref('ChatMessage'), { minItems: 1, maxItems: INPUT_LIMITS.maxMessages }),
        ],
        { description: 'The conversation to learn from: one user message, or chat messages.' },
      ),
      scope: Type.Ref('Scope'),
      metadata: Type.Optional(Type.Ref('MetadataInput')),
      infer: Type.Optional(
        hasLlm
          ? Type.Boolean({ description: 'false stores the messages as given, without the LLM. Default: true.' })
          : Type.Literal(false, { description: 'This server has no LLM: messages are stored as given. Default: false.' }),
      ),
      prompt: Type.Optional(
        Type.String({ minLength: 1, maxLength: 20_000, pattern: NOT_BLANK, description: 'Custom extraction instructions for this call.' }),
      ),
      occurredAt: Type.Optional(OccurredAt),
      expiresAt: Type.Optional(ExpiresAt),
      // Without an LLM the document allows only what such a server accepts, as for infer.
      memoryType: Type.Optional(
        hasLlm
          ? StringEnum(['semantic', 'procedural'] as const, {
              description:
                "procedural: the messages are an agent's run (tool calls and results included); one LLM call summarises it into ONE new memory of that type, keeping commands, ids, values and errors verbatim, reconciled with nothing. prompt replaces the summary instructions. Default: semantic (facts).",
            })
          : StringEnum(['semantic'] as const, {
              description: 'Only semantic: this server has no LLM, and a procedural memory is a summary written by one. Default: semantic.',
            }),
      ),
      categories: Type.Optional(
        Type.Array(Type.Ref('Category'), {
          maxItems: hasLlm ? INPUT_LIMITS.maxCategories : 0,
          description: hasLlm
            ? 'Custom categories the extraction call assigns to each fact (zero or more, names from this list only), returned as categories and filterable ({ categories: "food" }). Not with infer: false or memoryType procedural (an empty list is accepted there). Default: the server\'s (none).'
            : 'This server has no LLM: categories are assigned at extraction, which it never runs, so only an empty list. Default: none.',
        }),
      ),
    },
    { additionalProperties: false },
  );
}
export type AddRequest = Omit<Static<ReturnType<typeof addRequestSchema>>, 'metadata' | 'scope' | 'messages' | 'categories'> & {
  scope: Scope;
  messages: string | ChatMessage[];
  metadata?: Metadata;
  categories?: CategoryDefinition[];
};
type Scope = Static<typeof ScopeSchema>;

/** The header that makes an add safe to retry (mapped to `add`'s `idempotencyKey`). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Headers of the add route. Fastify gives header names in lower case. */
export const AddHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: INPUT_LIMITS.maxIdempotencyKeyLength,
      pattern: '^[!-~]+$',
      description: `Makes the add safe to retry: a request with the same key and scope within the server's retention (24 hours by default) gets the first request's response (the same events and ids) and writes nothing; concurrent requests with one key run the add once. The same key with another body in the scope is refused (422 IDEMPOTENCY_KEY_REUSED). 1 to ${INPUT_LIMITS.maxIdempotencyKeyLength} visible ASCII characters, e.g. a UUID.`,
    }),
  ),
});
export type AddHeaders = Static<typeof AddHeadersSchema>;

/** Order of a listing: id order (creation order for ids mem made), oldest or newest first. */
const ListOrder = StringEnum(['oldest', 'newest'] as const, {
  description:
    'oldest: ascending id order (creation order for ids mem made); newest: the reverse, newest first. Default: oldest. The cursor continues in the same order.',
});
export type ListOrderValue = 'oldest' | 'newest';

export const ListRequestSchema = Type.Object(
  {
    scope: Type.Ref('Scope'),
    filter: Type.Optional(Type.Ref('Filter')),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: INPUT_LIMITS.maxLimit, description: 'Default: 100.' })),
    cursor: Type.Optional(IdString('The nextCursor of the previous page.')),
    order: Type.Optional(ListOrder),
    includeExpired: Type.Optional(IncludeExpired),
  },
  { additionalProperties: false },
);
export type ListRequest = {
  scope: Scope;
  filter?: FilterInput;
  pageSize?: number;
  cursor?: string;
  order?: ListOrderValue;
  includeExpired?: boolean;
};

/** Query of `GET /v1/memories`: the scope ids and paging (filters go through `POST /v1/memories/list`). */
export const ScopeQuerySchema = Type.Object(
  {
    userId: Type.Optional(ScopeId('Scope: user id.')),
    agentId: Type.Optional(ScopeId('Scope: agent id.')),
    runId: Type.Optional(ScopeId('Scope: run id.')),
  },
  { additionalProperties: false },
);
export const ListQuerySchema = Type.Object(
  {
    ...ScopeQuerySchema.properties,
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: INPUT_LIMITS.maxLimit, description: 'Default: 100.' })),
    cursor: Type.Optional(IdString('The nextCursor of the previous page.')),
    order: Type.Optional(ListOrder),
    includeExpired: Type.Optional(IncludeExpired),
  },
  { additionalProperties: false },
);
export type ScopeQuery = Static<typeof ScopeQuerySchema>;
export type ListQuery = Static<typeof ListQuerySchema>;

export const IdParamsSchema = Type.Object({ id: IdString('Memory id.') }, { additionalProperties: false });

export const UpdateRequestSchema = Type.Object(
  {
    text: Type.Optional(
      Type.String({ minLength: 1, maxLength: INPUT_LIMITS.maxMemoryTextLength, pattern: NOT_BLANK, description: 'New text; re-embedded.' }),
    ),
    metadata: Type.Optional(Type.Ref('MetadataInput')),
    expiresAt: Type.Optional(
      Type.Union([DateInput('When the memory expires.'), Type.Null()], { description: 'When the memory expires; null: never.' }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The new text, metadata keys to merge in, and/or the expiry. Scope ids never change.',
  },
);
export type UpdateRequest = { text?: string; metadata?: Metadata; expiresAt?: string | number | null };

export const DeleteAllRequestSchema = Type.Object(
  { scope: Type.Ref('Scope'), filter: Type.Optional(Type.Ref('Filter')) },
  { additionalProperties: false },
);
export type DeleteAllRequest = { scope: Scope; filter?: FilterInput };

export const ScopeRequestSchema = Type.Object({ scope: Type.Ref('Scope') }, { additionalProperties: false });
export type ScopeRequest = { scope: Scope };

/** Most records one import request may carry (the browser sends an export in batches). */
export const MAX_IMPORT_RECORDS = 500;

/** One memory to restore, as `mem export` and the memory browser write it (the vector is made again). */
export const ImportRecordSchema = Type.Object(
  {
    id: Type.Optional(IdString('Keeps the memory id (importing the same id again replaces it). Default: a new id.')),
    text: Type.String({ minLength: 1, maxLength: INPUT_LIMITS.maxMemoryTextLength, pattern: NOT_BLANK }),
    scope: Type.Ref('Scope'),
    metadata: Type.Optional(Type.Ref('MetadataInput')),
    createdAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now.' })),
    updatedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: createdAt.' })),
    occurredAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: createdAt.' })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the memory expires. Default: never.' })),
    memoryType: Type.Optional(StringEnum(['semantic', 'procedural'] as const, { description: 'Default: semantic.' })),
    categories: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: INPUT_LIMITS.maxCategoryNameLength / 2, pattern: NOT_BLANK }), {
        minItems: 1,
        maxItems: INPUT_LIMITS.maxCategories,
        description: 'Category names. Default: none.',
      }),
    ),
    hash: Type.Optional(Type.String({ maxLength: 128, description: 'Ignored (an export carries it); the hash is computed from text.' })),
  },
  { $id: 'ImportRecord', additionalProperties: false },
);

export const ImportRequestSchema = Type.Object(
  { records: Type.Array(Type.Ref('ImportRecord'), { minItems: 1, maxItems: MAX_IMPORT_RECORDS }) },
  { additionalProperties: false },
);
export type ImportRecordInput = {
  id?: string;
  text: string;
  scope: Scope;
  metadata?: Metadata;
  createdAt?: string;
  updatedAt?: string;
  occurredAt?: string;
  expiresAt?: string;
  memoryType?: 'semantic' | 'procedural';
  categories?: string[];
};
export type ImportRequest = { records: ImportRecordInput[] };

/** Query of `GET /v1/scopes` and `GET /v1/usage`. */
export const LimitQuerySchema = (defaultLimit: number, maximum: number) =>
  Type.Object(
    { limit: Type.Optional(Type.Integer({ minimum: 1, maximum, description: `Default: ${defaultLimit}.` })) },
    { additionalProperties: false },
  );

/** Body of `POST /v1/search`. `rerank` is documented per server: without a reranker only `false` is accepted. */
export function searchRequestSchema(hasReranker: boolean) {
  return Type.Object(
    {
      query: Type.String({ minLength: 1, maxLength: INPUT_LIMITS.maxQueryLength, pattern: NOT_BLANK }),
      scope: Type.Ref('Scope'),
      filter: Type.Optional(Type.Ref('Filter')),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: INPUT_LIMITS.maxLimit, description: 'Default: 10.' })),
      threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1, description: 'Drops results whose cosine similarity is below it.' })),
      keyword: Type.Optional(Type.Boolean({ description: 'Fuse keyword (BM25) search in. Default: true.' })),
      relationLimit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: INPUT_LIMITS.maxLimit, description: 'Graph memory: how many relations. Default: limit.' }),
      ),
      includeInvalidRelations: Type.Optional(
        Type.Boolean({ description: 'Graph memory: also relations that have ended. Default: false.' }),
      ),
      includeExpired: Type.Optional(IncludeExpired),
      rerank: Type.Optional(
        hasReranker
          ? Type.Boolean({
              description:
                "Re-order the best 30 candidates (or limit, when larger) with the server's reranker; results carry rerankScore. Default: false.",
            })
          : Type.Literal(false, { description: 'This server has no reranker (MEM_RERANKER). Default: false.' }),
      ),
    },
    { additionalProperties: false },
  );
}
export type SearchRequest = Omit<Static<ReturnType<typeof searchRequestSchema>>, 'scope' | 'filter'> & {
  scope: Scope;
  filter?: FilterInput;
};

// ---------------------------------------------------------------------------------------------
// Responses (dates are ISO 8601 strings)

const DateTime = Type.String({ format: 'date-time' });

export const UsageSchema = Type.Object(
  {
    llmCalls: Type.Integer({ minimum: 0 }),
    promptTokens: Type.Integer({ minimum: 0 }),
    completionTokens: Type.Integer({ minimum: 0 }),
    embeddingCalls: Type.Integer({ minimum: 0 }),
    embeddingTokens: Type.Integer({ minimum: 0 }),
  },
  { $id: 'Usage', additionalProperties: false, description: 'Tokens and calls the operation spent on providers.' },
);

const memoryItemProperties = {
  id: Type.String(),
  text: Type.String(),
  hash: Type.String({ description: 'SHA-256 of the text.' }),
  metadata: Type.Ref('Metadata'),
  scope: Type.Ref('StoredScope'),
  createdAt: DateTime,
  updatedAt: DateTime,
  occurredAt: DateTime,
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the memory expires; absent when it never does.' })),
  memoryType: Type.Optional(
    Type.Literal('procedural', { description: "procedural: the summary of an agent's run; absent for ordinary memories (facts)." }),
  ),
  categories: Type.Optional(
    Type.Array(Type.String(), { minItems: 1, description: 'The custom categories extraction assigned; absent when none.' }),
  ),
};

export const MemoryItemSchema = Type.Object(memoryItemProperties, { $id: 'MemoryItem', additionalProperties: false });

export const SearchResultSchema = Type.Object(
  {
    ...memoryItemProperties,
    score: Type.Number({ description: 'Cosine similarity to the query; higher is better.' }),
    keywordScore: Type.Optional(Type.Number({ description: 'Keyword (BM25) relevance, when keyword search found the memory.' })),
    rerankScore: Type.Optional(Type.Number()),
  },
  { $id: 'SearchResult', additionalProperties: false },
);

export const MemoryEventSchema = Type.Object(
  {
    kind: StringEnum(['ADD', 'UPDATE', 'DELETE', 'NONE'] as const),
    id: Type.String(),
    text: Type.String(),
    previousText: Type.Optional(Type.String()),
  },
  { $id: 'MemoryEvent', additionalProperties: false },
);

const RelationKey = {
  source: Type.String(),
  relation: Type.String(),
  target: Type.String(),
};

export const GraphAddResultSchema = Type.Object(
  {
    entities: Type.Array(Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: false })),
    relations: Type.Array(Type.Object(RelationKey, { additionalProperties: false })),
    invalidated: Type.Array(Type.Object(RelationKey, { additionalProperties: false })),
  },
  { $id: 'GraphAddResult', additionalProperties: false },
);

/** Something the caller should know though the add succeeded (core's `AddNote`). */
export const AddNoteSchema = Type.Object(
  {
    code: StringEnum(['IMAGES_DROPPED'] as const),
    reason: StringEnum(['images_off', 'no_image_input', 'infer_false', 'not_described'] as const, {
      description:
        'images_off: the server does not read images (MEM_IMAGES); no_image_input: its LLM cannot see images; infer_false: infer: false stores text only; not_described: the model gave no description.',
    }),
    message: Type.String(),
    parts: Type.Array(Type.String(), { description: 'The image parts left out, e.g. messages[0].content[1].' }),
  },
  { $id: 'AddNote', additionalProperties: false, description: 'Images of the request were left out (their text parts were kept).' },
);

export const AddResponseSchema = Type.Object(
  {
    events: Type.Array(Type.Ref('MemoryEvent')),
    memories: Type.Array(Type.Ref('MemoryItem')),
    usage: Type.Ref('Usage'),
    graph: Type.Optional(Type.Ref('GraphAddResult')),
    notes: Type.Optional(
      Type.Array(Type.Ref('AddNote'), { description: 'Present when there is something to know, e.g. images left out.' }),
    ),
  },
  { $id: 'AddResponse', additionalProperties: false },
);

export const ListResponseSchema = Type.Object(
  { results: Type.Array(Type.Ref('MemoryItem')), nextCursor: Type.Optional(Type.String()) },
  { $id: 'ListResponse', additionalProperties: false },
);

export const SearchResponseSchema = Type.Object(
  {
    results: Type.Array(Type.Ref('SearchResult')),
    relations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            ...RelationKey,
            scope: Type.Ref('StoredScope'),
            validFrom: DateTime,
            validTo: Type.Union([DateTime, Type.Null()]),
            score: Type.Number(),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    entities: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String(), type: Type.String(), scope: Type.Ref('StoredScope'), score: Type.Number() },
          { additionalProperties: false },
        ),
      ),
    ),
    usage: Type.Ref('Usage'),
  },
  { $id: 'SearchResponse', additionalProperties: false },
);

export const UpdateResponseSchema = Type.Object(
  { memory: Type.Ref('MemoryItem'), usage: Type.Ref('Usage') },
  { $id: 'UpdateResponse', additionalProperties: false },
);

export const DeleteResponseSchema = Type.Object({ deleted: Type.Boolean() }, { $id: 'DeleteResponse', additionalProperties: false });
export const DeleteAllResponseSchema = Type.Object(
  { deleted: Type.Integer({ minimum: 0 }) },
  { $id: 'DeleteAllResponse', additionalProperties: false },
);

export const ImportResponseSchema = Type.Object(
  {
    added: Type.Integer({ minimum: 0, description: 'Records whose id was new in its scope.' }),
    updated: Type.Integer({ minimum: 0, description: 'Records that replaced a memory with the same id.' }),
    usage: Type.Ref('Usage'),
  },
  { $id: 'ImportResponse', additionalProperties: false },
);

export const ScopeListResponseSchema = Type.Object(
  {
    scopes: Type.Array(
      Type.Object(
        { scope: Type.Ref('StoredScope'), count: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false, description: 'One exact combination of scope ids and how many memories it holds.' },
      ),
    ),
    truncated: Type.Boolean({ description: 'More scopes exist than limit.' }),
  },
  { $id: 'ScopeListResponse', additionalProperties: false },
);

export const UsageEntrySchema = Type.Object(
  {
    at: DateTime,
    operation: StringEnum(['add', 'search', 'update', 'import'] as const),
    keyId: Type.String(),
    scope: Type.Ref('StoredScope'),
    durationMs: Type.Number({ minimum: 0 }),
    usage: Type.Ref('Usage'),
  },
  { $id: 'UsageEntry', additionalProperties: false },
);

export const UsageResponseSchema = Type.Object(
  {
    entries: Type.Array(Type.Ref('UsageEntry'), { description: 'Newest first.' }),
    totals: Type.Ref('Usage'),
    requests: Type.Integer({ minimum: 0, description: 'How many entries the totals add up.' }),
    capacity: Type.Integer({ minimum: 1, description: 'How many requests the server remembers (the oldest are dropped).' }),
  },
  { $id: 'UsageResponse', additionalProperties: false },
);

export const WhoAmIResponseSchema = Type.Object(
  {
    key: Type.Object(
      {
        id: Type.String(),
        userIds: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
        agentIds: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
        runIds: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
        admin: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    server: Type.Object(
      {
        llm: Type.Boolean({ description: 'add extracts facts (infer defaults to true).' }),
        graph: Type.Boolean({ description: 'Graph memory: search returns relations and entities.' }),
        scopes: Type.Boolean({ description: 'GET /v1/scopes works (the vector store can list its scopes).' }),
        import: Type.Boolean({ description: 'POST /v1/memories/import works (the server has an embedder to re-embed with).' }),
        rerank: Type.Boolean({ description: 'POST /v1/search takes rerank: true (the server has a reranker).' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'WhoAmIResponse', additionalProperties: false },
);

export const HistoryEventSchema = Type.Object(
  {
    id: Type.String(),
    memoryId: Type.String(),
    kind: StringEnum(['ADD', 'UPDATE', 'DELETE'] as const),
    previousText: Type.Union([Type.String(), Type.Null()]),
    text: Type.Union([Type.String(), Type.Null()]),
    scope: Type.Ref('StoredScope'),
    validAt: DateTime,
    createdAt: DateTime,
    actor: StringEnum(['add', 'update', 'delete', 'deleteAll'] as const),
  },
  { $id: 'HistoryEvent', additionalProperties: false },
);

export const HistoryResponseSchema = Type.Object(
  { results: Type.Array(Type.Ref('HistoryEvent'), { description: 'Oldest first; only events of memories in the scope.' }) },
  { $id: 'HistoryResponse', additionalProperties: false },
);

export const HealthResponseSchema = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
export const ReadyResponseSchema = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });
export const OpenApiDocumentSchema = Type.Object(
  { openapi: Type.Literal('3.1.0') },
  { additionalProperties: true, description: 'An OpenAPI 3.1 document.' },
);
export const ResetResponseSchema = Type.Object({ reset: Type.Literal(true) }, { additionalProperties: false });

// ---------------------------------------------------------------------------------------------
// API keys

const Allowed = (field: string) =>
  Type.Union([Type.Literal('*'), Type.Array(ScopeId(`A ${field} this key may use.`), { minItems: 1, maxItems: 1000 })], {
    description: `The ${field}s this key may read and write, or "*" for any. A restricted field must be set in every request (it is filled in when the key allows exactly one).`,
  });

export const KEY_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const ApiKeyInfoSchema = Type.Object(
  {
    id: Type.String({ description: 'Public name of the key; appears in logs. The key itself is never stored or shown again.' }),
    userIds: Allowed('userId'),
    agentIds: Allowed('agentId'),
    runIds: Allowed('runId'),
    admin: Type.Boolean({ description: 'May reset the store and manage keys.' }),
    source: StringEnum(['file', 'env', 'api'] as const, {
      description:
        'Where the key was defined: the keys file, MEM_API_KEYS / MEM_ADMIN_KEY (cannot be revoked through the API), or created through the API.',
    }),
    createdAt: DateTime,
  },
  { $id: 'ApiKeyInfo', additionalProperties: false },
);

export const KeyListResponseSchema = Type.Object({ keys: Type.Array(Type.Ref('ApiKeyInfo')) }, { additionalProperties: false });

export const CreateKeyRequestSchema = Type.Object(
  {
    id: Type.String({ pattern: KEY_ID_PATTERN, description: '1-64 letters, digits, "_", "-", "."; unique.' }),
    userIds: Type.Optional(Allowed('userId')),
    agentIds: Type.Optional(Allowed('agentId')),
    runIds: Type.Optional(Allowed('runId')),
    admin: Type.Optional(Type.Boolean({ description: 'Default: false.' })),
  },
  {
    additionalProperties: false,
    description: 'A new key. Fields left out allow any value ("*"), so restrict at least userIds for a tenant key.',
  },
);
export type CreateKeyRequest = {
  id: string;
  userIds?: '*' | string[];
  agentIds?: '*' | string[];
  runIds?: '*' | string[];
  admin?: boolean;
};

export const CreateKeyResponseSchema = Type.Object(
  {
    key: Type.String({ description: 'The secret. Shown once: only its hash is kept.' }),
    info: Type.Ref('ApiKeyInfo'),
    persisted: Type.Boolean({ description: 'Whether it was written to the keys file (false: kept in memory until restart).' }),
  },
  { additionalProperties: false },
);

export const KeyIdParamsSchema = Type.Object({ id: Type.String({ pattern: KEY_ID_PATTERN }) }, { additionalProperties: false });
export const RevokeKeyResponseSchema = Type.Object({ revoked: Type.Literal(true) }, { additionalProperties: false });

// ---------------------------------------------------------------------------------------------
// Errors

/** Every code an error response carries: the `MemError` codes of `@mem/core`, then HTTP-level ones. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'MISSING_SETTING',
  'UNSUPPORTED_CAPABILITY',
  'DIMENSION_MISMATCH',
  'PROVIDER_REQUEST_FAILED',
  'PROVIDER_RESPONSE_INVALID',
  'NOT_FOUND',
  'CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'ABORTED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'ROUTE_NOT_FOUND',
  'TIMEOUT',
  'SHUTTING_DOWN',
  'NOT_READY',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: StringEnum(ERROR_CODES),
        message: Type.String({ description: 'What went wrong and how to fix it. Never contains memory text or keys.' }),
        field: Type.Optional(Type.String({ description: 'The offending request field, e.g. scope.userId or filter.$or[1].rating.$gt.' })),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false, description: 'The one error shape of every endpoint.' },
);

/** Components shared by several routes, registered once with the validator and listed in the document. */
export const COMPONENTS: readonly TSchema[] = [
  ScopeSchema,
  StoredScopeSchema,
  MetadataInputSchema,
  MetadataSchema,
  FilterSchema,
  ToolCallSchema,
  ContentPartSchema,
  ChatMessageSchema,
  CategorySchema,
  UsageSchema,
  MemoryItemSchema,
  SearchResultSchema,
  MemoryEventSchema,
  GraphAddResultSchema,
  AddNoteSchema,
  AddResponseSchema,
  ListResponseSchema,
  SearchResponseSchema,
  UpdateResponseSchema,
  DeleteResponseSchema,
  DeleteAllResponseSchema,
  HistoryEventSchema,
  HistoryResponseSchema,
  ApiKeyInfoSchema,
  ImportRecordSchema,
  ImportResponseSchema,
  ScopeListResponseSchema,
  UsageEntrySchema,
  UsageResponseSchema,
  WhoAmIResponseSchema,
  ErrorResponseSchema,
];
