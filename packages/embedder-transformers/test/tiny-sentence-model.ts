import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * Writes a tiny BERT-shaped sentence-embedding model that `@huggingface/transformers` loads like a
 * real one: `config.json`, `tokenizer.json` (WordPiece), `tokenizer_config.json` and
 * `onnx/model.onnx`, under `<localModelPath>/<modelId>/`. Tests run it on the real
 * onnxruntime-node CPU runtime, offline.
 *
 * The graph behaves like a one-layer encoder, enough for tests to assert real behaviour:
 * - every token has its own embedding row (seeded from the token text), so texts sharing words
 *   point the same way and texts sharing none are nearly orthogonal;
 * - each position adds half the mean of the *unmasked* token embeddings (a stand-in for
 *   attention), so a model fed a wrong `attention_mask` gives a different vector;
 * - padded positions are not zero: `[PAD]` has a large embedding of its own, so pooling that
 *   counted padding would move the vector.
 *
 * @returns the folder of the model, `<localModelPath>/<modelId>`
 */
export async function writeTinySentenceModel(options: {
  readonly localModelPath: string;
  readonly modelId: string;
  /** Length of every vector. @default 32 */
  readonly hiddenSize?: number;
  /** Longest tokenized input, special tokens included; longer inputs are truncated. @default 64 */
  readonly maxLength?: number;
}): Promise<string> {
  const hiddenSize = options.hiddenSize ?? 32;
  const maxLength = options.maxLength ?? 64;
  const vocabulary = tinyVocabulary();
  const folder = path.join(options.localModelPath, ...options.modelId.split('/'));
  await mkdir(path.join(folder, 'onnx'), { recursive: true });
  await writeFile(path.join(folder, 'config.json'), JSON.stringify(tinyConfig(vocabulary.length, hiddenSize, maxLength), null, 2));
  await writeFile(path.join(folder, 'tokenizer.json'), JSON.stringify(tinyTokenizer(vocabulary), null, 2));
  await writeFile(path.join(folder, 'tokenizer_config.json'), JSON.stringify(tinyTokenizerConfig(maxLength), null, 2));
  await writeFile(path.join(folder, 'onnx', 'model.onnx'), tinyOnnxGraph(vocabulary, hiddenSize));
  return folder;
}

/** The special tokens, in id order, as BERT numbers them in this vocabulary. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Whole words the vocabulary knows; any other lowercase ASCII word is spelled letter by letter. */
export const TINY_MODEL_WORDS = [
  'the',
  'a',
  'an',
  'and',
  'or',
  'not',
  'of',
  'to',
  'in',
  'on',
  'at',
  'for',
  'with',
  'is',
  'are',
  'was',
  'i',
  'my',
  'me',
  'you',
  'he',
  'she',
  'they',
  'we',
  'user',
  'name',
  'likes',
  'loves',
  'hates',
  'prefers',
  'drinks',
  'eats',
  'lives',
  'works',
  'plays',
  'visited',
  'green',
  'black',
  'tea',
  'coffee',
  'water',
  'pizza',
  'pasta',
  'sushi',
  'cheese',
  'vegetarian',
  'vegan',
  'allergic',
  'peanuts',
  'dog',
  'cat',
  'paris',
  'london',
  'berlin',
  'tokyo',
  'tennis',
  'football',
  'chess',
  'guitar',
  'piano',
  'morning',
  'evening',
  'meeting',
  'monday',
  'friday',
  'weekend',
  'project',
  'deadline',
  'office',
  'home',
  'birthday',
  'sister',
  'brother',
  'engineer',
  'doctor',
  'teacher',
  'query',
  'passage',
  'search',
  'memory',
] as const;

function tinyVocabulary(): string[] {
  const characters = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const punctuation = [...'.,!?;:\'"-()/@#&'];
  return [...SPECIAL_TOKENS, ...TINY_MODEL_WORDS, ...characters, ...punctuation, ...characters.map((character) => `##${character}`)];
}

function tinyConfig(vocabularySize: number, hiddenSize: number, maxLength: number): object {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: hiddenSize,
    intermediate_size: hiddenSize,
    num_attention_heads: 1,
    num_hidden_layers: 1,
    max_position_embeddings: maxLength,
    type_vocab_size: 2,
    vocab_size: vocabularySize,
    pad_token_id: 0,
  };
}

function tinyTokenizerConfig(maxLength: number): object {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: maxLength,
    clean_up_tokenization_spaces: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };
}

function tinyTokenizer(vocabulary: readonly string[]): object {
  const ids = Object.fromEntries(vocabulary.map((token, id) => [token, id]));
  const special = (content: string) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

/**
 * The embedding row of one token: seeded pseudo-random values in [-1, 1). `[CLS]`/`[SEP]` are small
 * (they are in every text and would otherwise pull all vectors together); `[PAD]` is large and constant.
 * Tests use it as the reference: the mean-pooled vector of a text is the normalised mean of its rows.
 */
export function tinyTokenEmbedding(token: string, hiddenSize = 32): number[] {
  if (token === '[PAD]') return new Array<number>(hiddenSize).fill(5);
  const random = mulberry32(fnv1a(token));
  const scale = token === '[CLS]' || token === '[SEP]' ? 0.05 : 1;
  return Array.from({ length: hiddenSize }, () => scale * (random() * 2 - 1));
}

function embeddingTable(vocabulary: readonly string[], hiddenSize: number): Float32Array {
  const table = new Float32Array(vocabulary.length * hiddenSize);
  vocabulary.forEach((token, row) => table.set(tinyTokenEmbedding(token, hiddenSize), row * hiddenSize));
  return table;
}

/**
 * hidden = E[input_ids] + 0.5 · Σ_t(mask_t · E[input_ids_t]) / Σ_t mask_t, as `last_hidden_state` [batch, tokens, hidden].
 */
function tinyOnnxGraph(vocabulary: readonly string[], hiddenSize: number): Uint8Array {
  const { DataType } = onnx.TensorProto;
  const floatInitializer = (name: string, dims: number[], values: Float32Array) =>
    onnx.TensorProto.create({
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
  const int64Initializer = (name: string, values: number[]) =>
    onnx.TensorProto.create({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });
  const node = (opType: string, inputs: string[], outputs: string[], attributes: object[] = []) =>
    onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: outputs[0], attribute: attributes });
  const tensorType = (elemType: number, dims: (string | number)[]) => ({
    tensorType: {
      elemType,
      shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) },
    },
  });

  const graph = onnx.GraphProto.create({
    name: 'tiny-sentence-model',
    input: [
      onnx.ValueInfoProto.create({ name: 'input_ids', type: tensorType(DataType.INT64, ['batch', 'tokens']) }),
      onnx.ValueInfoProto.create({ name: 'attention_mask', type: tensorType(DataType.INT64, ['batch', 'tokens']) }),
    ],
    output: [onnx.ValueInfoProto.create({ name: 'last_hidden_state', type: tensorType(DataType.FLOAT, ['batch', 'tokens', hiddenSize]) })],
    initializer: [
      floatInitializer('embeddings', [vocabulary.length, hiddenSize], embeddingTable(vocabulary, hiddenSize)),
      floatInitializer('half', [], new Float32Array([0.5])),
      int64Initializer('last_axis', [-1]),
      int64Initializer('token_axis', [1]),
    ],
    node: [
      node('Gather', ['embeddings', 'input_ids'], ['token_embeddings']),
      node('Cast', ['attention_mask'], ['mask_float'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }]),
      node('Unsqueeze', ['mask_float', 'last_axis'], ['mask_column']),
      node('Mul', ['token_embeddings', 'mask_column'], ['masked_embeddings']),
      node(
        'ReduceSum',
        ['masked_embeddings', 'token_axis'],
        ['context_sum'],
        [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      ),
      node(
        'ReduceSum',
        ['mask_column', 'token_axis'],
        ['mask_count'],
        [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      ),
      node('Div', ['context_sum', 'mask_count'], ['context']),
      node('Mul', ['context', 'half'], ['half_context']),
      node('Add', ['token_embeddings', 'half_context'], ['last_hidden_state']),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'mem-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** 32-bit FNV-1a over UTF-16 code units: a stable seed per token. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A small seeded generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
