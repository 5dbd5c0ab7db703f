import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Model id of the generated test cross-encoder, as a folder under the temporary `localModelPath`. */
export const TINY_CROSS_ENCODER_ID = 'mem-test/tiny-cross-encoder';

/** Whole words the vocabulary knows; any other lowercase ASCII word is spelled letter by letter. */
const WORDS = [
  'the',
  'a',
  'and',
  'of',
  'to',
  'in',
  'on',
  'is',
  'my',
  'she',
  'he',
  'user',
  'likes',
  'plays',
  'works',
  'eats',
  'green',
  'black',
  'tea',
  'coffee',
  'cheese',
  'dog',
  'chess',
  'brother',
  'monday',
  'office',
  'berlin',
  'paris',
  'hiking',
] as const;
const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** A temporary `localModelPath` holding the generated cross-encoder; `remove()` deletes it. */
export interface TinyCrossEncoderFolder {
  readonly localModelPath: string;
  /** The model's exact logit for a (query tokens, document tokens) pair, as the tests' reference. */
  readonly expectedLogit: (queryTokens: readonly string[], documentTokens: readonly string[]) => number;
  remove(): Promise<void>;
}

/**
 * Writes a tiny BERT-shaped cross-encoder that `@huggingface/transformers` loads like a real one
 * (`config.json` with `BertForSequenceClassification`, a WordPiece `tokenizer.json` with the pair
 * template, `tokenizer_config.json`, `onnx/model.onnx`), for tests on the real onnxruntime CPU runtime.
 *
 * The graph reads `input_ids`, `attention_mask` and `token_type_ids` and returns `logits` [batch, 1]:
 * the dot product of the summed embeddings of the query tokens (type 0) and of the document tokens
 * (type 1), padding masked out. So a document sharing words with the query scores high, one sharing
 * none scores near 0, and a wrong `token_type_ids` or `attention_mask` changes the score.
 */
export async function createTinyCrossEncoderFolder(options: { readonly outputs?: 1 | 2 } = {}): Promise<TinyCrossEncoderFolder> {
  const outputs = options.outputs ?? 1;
  const hiddenSize = 16;
  const localModelPath = await mkdtemp(path.join(os.tmpdir(), 'mem-reranker-transformers-'));
  const folder = path.join(localModelPath, ...TINY_CROSS_ENCODER_ID.split('/'));
  const characters = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const vocabulary = [...SPECIAL, ...WORDS, ...characters, ...'.,!?\'"-'.split(''), ...characters.map((character) => `##${character}`)];
  await mkdir(path.join(folder, 'onnx'), { recursive: true });
  const id2label = outputs === 1 ? { 0: 'LABEL_0' } : { 0: 'irrelevant', 1: 'relevant' };
  await writeFile(
    path.join(folder, 'config.json'),
    JSON.stringify({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      hidden_size: hiddenSize,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      max_position_embeddings: 64,
      type_vocab_size: 2,
      vocab_size: vocabulary.length,
      pad_token_id: 0,
      id2label,
      label2id: Object.fromEntries(Object.entries(id2label).map(([id, label]) => [label, Number(id)])),
    }),
  );
  await writeFile(path.join(folder, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocabulary)));
  await writeFile(
    path.join(folder, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 64,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    }),
  );
  await writeFile(path.join(folder, 'onnx', 'model.onnx'), graph(vocabulary, hiddenSize, outputs));
  const dot = (left: readonly number[], right: readonly number[]) => left.reduce((sum, value, index) => sum + value * right[index]!, 0);
  const sum = (tokens: readonly string[]) =>
    tokens
      .map((token) => embedding(token, hiddenSize))
      .reduce((total, row) => total.map((value, index) => value + row[index]!), new Array<number>(hiddenSize).fill(0));
  return {
    localModelPath,
    // Query side: [CLS] query [SEP] (type 0); document side: document [SEP] (type 1).
    expectedLogit: (queryTokens, documentTokens) => dot(sum(['[CLS]', ...queryTokens, '[SEP]']), sum([...documentTokens, '[SEP]'])),
    remove: () => rm(localModelPath, { recursive: true, force: true }),
  };
}

/** A token's embedding row: seeded values in [-1, 1); special tokens small, `[PAD]` large (so counting padding would show). */
function embedding(token: string, hiddenSize: number): number[] {
  if (token === '[PAD]') return new Array<number>(hiddenSize).fill(3);
  let state = [...token].reduce((hash, character) => Math.imul(hash ^ character.charCodeAt(0), 0x01000193), 0x811c9dc5) >>> 0;
  const scale = token === '[CLS]' || token === '[SEP]' ? 0.05 : 1;
  return Array.from({ length: hiddenSize }, () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return scale * ((((value ^ (value >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  });
}

function tokenizerJson(vocabulary: readonly string[]): object {
  const ids = Object.fromEntries(vocabulary.map((token, id) => [token, id]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
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
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}

/** logits = Σ_h (Σ_t q_t·E[id_t])_h · (Σ_t d_t·E[id_t])_h, with q = mask·(1 − type), d = mask·type; two outputs: [0, logit]. */
function graph(vocabulary: readonly string[], hiddenSize: number, outputs: 1 | 2): Uint8Array {
  const { DataType } = onnx.TensorProto;
  const table = new Float32Array(vocabulary.length * hiddenSize);
  vocabulary.forEach((token, row) => table.set(embedding(token, hiddenSize), row * hiddenSize));
  const floats = (name: string, dims: number[], values: Float32Array) =>
    onnx.TensorProto.create({
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
  const ints = (name: string, values: number[]) =>
    onnx.TensorProto.create({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });
  const node = (opType: string, inputs: string[], output: string, attributes: object[] = []) =>
    onnx.NodeProto.create({ opType, input: inputs, output: [output], name: output, attribute: attributes });
  const toFloat = [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }];
  const keepdims = (value: number) => [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: value }];
  const tensorType = (elemType: number, dims: (string | number)[]) => ({
    tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) } },
  });
  const nodes = [
    node('Gather', ['embeddings', 'input_ids'], 'token_embeddings'),
    node('Cast', ['attention_mask'], 'mask', toFloat),
    node('Cast', ['token_type_ids'], 'types', toFloat),
    node('Mul', ['mask', 'types'], 'document_weight'),
    node('Sub', ['mask', 'document_weight'], 'query_weight'),
    node('Unsqueeze', ['query_weight', 'last_axis'], 'query_column'),
    node('Unsqueeze', ['document_weight', 'last_axis'], 'document_column'),
    node('Mul', ['token_embeddings', 'query_column'], 'query_tokens'),
    node('Mul', ['token_embeddings', 'document_column'], 'document_tokens'),
    node('ReduceSum', ['query_tokens', 'token_axis'], 'query_sum', keepdims(0)),
    node('ReduceSum', ['document_tokens', 'token_axis'], 'document_sum', keepdims(0)),
    node('Mul', ['query_sum', 'document_sum'], 'products'),
    node('ReduceSum', ['products', 'last_axis'], outputs === 1 ? 'logits' : 'relevant_logit', keepdims(1)),
    ...(outputs === 2
      ? [
          node('Mul', ['relevant_logit', 'zero'], 'irrelevant_logit'),
          node('Concat', ['irrelevant_logit', 'relevant_logit'], 'logits', [
            { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          ]),
        ]
      : []),
  ];
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'mem-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create({
      name: 'tiny-cross-encoder',
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) =>
        onnx.ValueInfoProto.create({ name, type: tensorType(DataType.INT64, ['batch', 'tokens']) }),
      ),
      output: [onnx.ValueInfoProto.create({ name: 'logits', type: tensorType(DataType.FLOAT, ['batch', outputs]) })],
      initializer: [
        floats('embeddings', [vocabulary.length, hiddenSize], table),
        floats('zero', [], new Float32Array([0])),
        ints('last_axis', [-1]),
        ints('token_axis', [1]),
      ],
      node: nodes,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}
