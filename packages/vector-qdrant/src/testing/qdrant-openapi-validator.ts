import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validates HTTP requests (and the emulator's own answers) against Qdrant's published OpenAPI 3
 * document, so a request the real server would reject fails here too.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One operation of the spec, ready to validate. */
export interface QdrantOperation {
  readonly operationId: string;
  readonly method: string;
  /** The path template, e.g. `/collections/{collection_name}/points/scroll`. */
  readonly template: string;
  readonly pattern: RegExp;
  readonly pathParameters: readonly string[];
  /** Query parameters the spec declares, with their validators. */
  readonly queryParameters: ReadonlyMap<
    string,
    { readonly required: boolean; readonly type: string | undefined; readonly validate: ValidateFunction }
  >;
  readonly body: { readonly required: boolean; readonly validate: ValidateFunction } | undefined;
  /** Validator of the 200 answer, when the spec gives a JSON schema for it. */
  readonly response: ValidateFunction | undefined;
}

/** The outcome of matching and validating one request. */
export type ValidationOutcome =
  | { readonly ok: true; readonly operation: QdrantOperation; readonly pathParameters: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

const SCHEMA_ID = 'qdrant-openapi.json';

/**
 * Where the spec lives in this repository's layout: `<repo>/../shared/specs/qdrant/openapi.json`,
 * with `<repo>` the nearest folder above this file holding `pnpm-workspace.yaml`.
 */
export function defaultSpecPath(): string | undefined {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'pnpm-workspace.yaml'))) return resolve(directory, '..', 'shared', 'specs', 'qdrant', 'openapi.json');
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** Compiled documents by path. */
const compiled = new Map<string, QdrantOpenApiValidator>();

/** Request validation for every operation of Qdrant's OpenAPI document. */
export class QdrantOpenApiValidator {
  /** The `info.version` of the document, e.g. `master` or `v1.15.0`. */
  readonly specVersion: string;
  private readonly operations: QdrantOperation[] = [];

  /** Reads and compiles the OpenAPI document at `specPath`, once per path: compiling takes seconds, so emulators share it. */
  static fromFile(specPath: string): QdrantOpenApiValidator {
    const key = resolve(specPath);
    let validator = compiled.get(key);
    if (!validator) {
      validator = new QdrantOpenApiValidator(JSON.parse(readFileSync(specPath, 'utf8')) as JsonObject);
      compiled.set(key, validator);
    }
    return validator;
  }

  constructor(spec: JsonObject) {
    const info = spec['info'] as JsonObject | undefined;
    this.specVersion = typeof info?.['version'] === 'string' ? info['version'] : 'unknown';
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    for (const format of ['int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64']) {
      const unsigned = format.startsWith('u');
      ajv.addFormat(format, { type: 'number', validate: (value: number) => Number.isInteger(value) && (!unsigned || value >= 0) });
    }
    for (const format of ['float', 'double'])
      ajv.addFormat(format, { type: 'number', validate: (value: number) => Number.isFinite(value) });
    ajv.addFormat('partial-date-time', true);
    const components = (spec['components'] as JsonObject | undefined)?.['schemas'] ?? {};
    ajv.addSchema({ $id: SCHEMA_ID, components: { schemas: mapValues(components as JsonObject, toJsonSchema) } } as object);

    const compile = (schema: Json): ValidateFunction => ajv.compile(rebase(toJsonSchema(schema)) as object);
    const paths = (spec['paths'] ?? {}) as JsonObject;
    for (const [template, item] of Object.entries(paths)) {
      for (const [method, rawOperation] of Object.entries(item as JsonObject)) {
        if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
        const operation = rawOperation as JsonObject;
        const pathParameters: string[] = [];
        const pattern = new RegExp(
          `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
            pathParameters.push(name);
            return '([^/]+)';
          })}$`,
        );
        const queryParameters = new Map<string, { required: boolean; type: string | undefined; validate: ValidateFunction }>();
        for (const rawParameter of (operation['parameters'] ?? []) as JsonObject[]) {
          const parameter = resolveParameter(rawParameter, spec);
          if (parameter['in'] !== 'query') continue;
          const schema = (parameter['schema'] ?? {}) as JsonObject;
          queryParameters.set(String(parameter['name']), {
            required: parameter['required'] === true,
            type: schemaType(schema, components as JsonObject),
            validate: compile(schema),
          });
        }
        const requestBody = operation['requestBody'] as JsonObject | undefined;
        const bodySchema = ((requestBody?.['content'] as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.[
          'schema'
        ];
        const okSchema = (
          (
            ((operation['responses'] as JsonObject | undefined)?.['200'] as JsonObject | undefined)?.['content'] as JsonObject | undefined
          )?.['application/json'] as JsonObject | undefined
        )?.['schema'];
        this.operations.push({
          operationId: String(operation['operationId'] ?? `${method} ${template}`),
          method: method.toUpperCase(),
          template,
          pattern,
          pathParameters,
          queryParameters,
          body: bodySchema === undefined ? undefined : { required: requestBody?.['required'] === true, validate: compile(bodySchema) },
          response: okSchema === undefined ? undefined : compile(okSchema),
        });
      }
    }
    // Literal segments win over parameters: `/points/scroll` before `/points/{id}`.
    this.operations.sort((a, b) => a.pathParameters.length - b.pathParameters.length);
  }

  /**
   * Finds the operation of `method path` and validates its query string and JSON body.
   * `body` is the parsed JSON (`undefined` when the request had none).
   */
  validateRequest(method: string, path: string, query: URLSearchParams, body: unknown): ValidationOutcome {
    let matchedPath = false;
    for (const operation of this.operations) {
      const match = operation.pattern.exec(path);
      if (!match) continue;
      matchedPath = true;
      if (operation.method !== method) continue;
      const pathParameters: Record<string, string> = {};
      operation.pathParameters.forEach((name, index) => {
        pathParameters[name] = decodeURIComponent(match[index + 1]!);
      });
      const problems: string[] = [];
      for (const name of new Set(query.keys())) {
        const parameter = operation.queryParameters.get(name);
        if (!parameter) {
          problems.push(`unknown query parameter "${name}"`);
          continue;
        }
        const values = query.getAll(name);
        const value = coerce(values[values.length - 1]!, parameter.type);
        if (!parameter.validate(value)) problems.push(`query parameter "${name}": ${describeErrors(parameter.validate.errors)}`);
      }
      for (const [name, parameter] of operation.queryParameters) {
        if (parameter.required && !query.has(name)) problems.push(`missing query parameter "${name}"`);
      }
      if (operation.body) {
        if (body === undefined) {
          if (operation.body.required) problems.push('missing JSON body');
        } else if (!operation.body.validate(body)) {
          problems.push(`body: ${describeErrors(operation.body.validate.errors)}`);
        }
      }
      if (problems.length > 0)
        return { ok: false, status: 400, message: `Format error in request (${operation.operationId}): ${problems.join('; ')}` };
      return { ok: true, operation, pathParameters };
    }
    return {
      ok: false,
      status: 404,
      message: matchedPath ? `Method ${method} is not allowed on ${path}` : `No route for ${method} ${path}`,
    };
  }

  /** Errors of a 200 answer body against the spec, or `undefined` when it conforms. */
  validateResponse(operation: QdrantOperation, body: unknown): string | undefined {
    if (!operation.response || operation.response(body)) return undefined;
    return describeErrors(operation.response.errors);
  }
}

function resolveParameter(parameter: JsonObject, spec: JsonObject): JsonObject {
  const ref = parameter['$ref'];
  if (typeof ref !== 'string') return parameter;
  let target: Json = spec;
  for (const part of ref.replace(/^#\//, '').split('/'))
    target = (target as JsonObject)[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Json;
  return target as JsonObject;
}

/** The JSON type of a query parameter's schema (following one `$ref`), used to coerce the string. */
function schemaType(schema: JsonObject, components: JsonObject): string | undefined {
  if (typeof schema['type'] === 'string') return schema['type'];
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const target = components[ref.split('/').pop()!] as JsonObject | undefined;
    return target ? schemaType(target, components) : undefined;
  }
  return undefined;
}

function coerce(value: string, type: string | undefined): unknown {
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (type === 'integer' || type === 'number') return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  return value;
}

/**
 * OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a `null` alternative (a bare
 * `{ nullable: true }` inside `anyOf` becomes `{ type: 'null' }`), everything else is kept.
 */
export function toJsonSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const converted: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example') continue;
    converted[key] = key === 'properties' || key === 'schemas' ? mapValues(value as JsonObject, toJsonSchema) : toJsonSchema(value);
  }
  if (schema['nullable'] !== true) return converted;
  const constraints = Object.keys(converted).filter((key) => !['description', 'default', 'deprecated', 'title'].includes(key));
  if (constraints.length === 0) return { type: 'null' };
  if (typeof converted['type'] === 'string') {
    converted['type'] = [converted['type'], 'null'];
    if (Array.isArray(converted['enum'])) converted['enum'] = [...converted['enum'], null];
    return converted;
  }
  return { anyOf: [converted, { type: 'null' }] };
}

function mapValues(object: JsonObject, map: (value: Json) => Json): JsonObject {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}

/** Points local `#/components/...` references at the registered components document. */
function rebase(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${SCHEMA_ID}${value}` : rebase(value),
    ]),
  );
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'does not match the schema';
  // anyOf failures list every branch; the most specific (deepest) paths say the most.
  const deepest = Math.max(...errors.map((error) => error.instancePath.split('/').length));
  const chosen = errors.filter((error) => error.instancePath.split('/').length === deepest).slice(0, 5);
  return chosen.map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`).join(', ');
}
