import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';

/** The two halves of Pinecone's API: `db_control` (indexes) and `db_data` (records). */
export type PineconePlane = 'control' | 'data';

/** The request parts a spec operation constrains. */
export interface SpecRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: URLSearchParams;
  /** `undefined` when the request had no body. */
  readonly body: unknown;
}

/** One operation of the spec, matched from a method and path. */
export interface SpecOperation {
  readonly operationId: string;
  readonly pathParams: Readonly<Record<string, string>>;
  /** Every violation of the spec, e.g. `body/vectors/0/values must be array`; empty when valid. */
  validateRequest(request: SpecRequest): string[];
  /** Violations of the documented response shape for `status`; empty when valid. */
  validateResponse(status: number, body: unknown): string[];
}

/** Pinecone's published OpenAPI documents for one API version, compiled for validation. */
export interface PineconeSpec {
  readonly version: string;
  readonly directory: string;
  find(plane: PineconePlane, method: string, pathname: string): SpecOperation | undefined;
}

/**
 * Where the specs live: `../shared/specs/pinecone` next to the repository root (the directory
 * holding `pnpm-workspace.yaml`), found by walking up from this file.
 */
export function defaultSpecDirectory(): string | undefined {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'pnpm-workspace.yaml'))) return resolve(directory, '..', 'shared', 'specs', 'pinecone');
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** Loads `db_control_<version>.oas.yaml` and `db_data_<version>.oas.yaml`; `undefined` when either is missing. */
export function loadPineconeSpec(directory: string, version: string): PineconeSpec | undefined {
  const key = `${resolve(directory)}\0${version}`;
  if (!loaded.has(key)) loaded.set(key, compileSpec(directory, version));
  return loaded.get(key);
}

/** Compiled specs by directory and version: compiling takes about a second, so emulators share them. */
const loaded = new Map<string, PineconeSpec | undefined>();

function compileSpec(directory: string, version: string): PineconeSpec | undefined {
  const files = { control: join(directory, `db_control_${version}.oas.yaml`), data: join(directory, `db_data_${version}.oas.yaml`) };
  if (!existsSync(files.control) || !existsSync(files.data)) return undefined;
  const planes = {
    control: compileDocument('control', parse(readFileSync(files.control, 'utf8')) as OpenApiDocument, version),
    data: compileDocument('data', parse(readFileSync(files.data, 'utf8')) as OpenApiDocument, version),
  };
  return {
    version,
    directory,
    find: (plane, method, pathname) => planes[plane](method.toLowerCase(), pathname),
  };
}

interface OpenApiParameter {
  readonly in: 'header' | 'query' | 'path' | 'cookie';
  readonly name: string;
  readonly required?: boolean;
  readonly schema?: JsonObject;
}

interface OpenApiOperation {
  readonly operationId?: string;
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Record<string, { readonly schema?: JsonObject }> };
  readonly responses?: Record<string, { readonly content?: Record<string, { readonly schema?: JsonObject }> }>;
}

interface OpenApiDocument {
  readonly info?: { readonly version?: string };
  readonly paths: Record<string, Record<string, OpenApiOperation>>;
  readonly components?: unknown;
}

type JsonObject = { [key: string]: unknown };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function compileDocument(
  plane: PineconePlane,
  document: OpenApiDocument,
  version: string,
): (method: string, pathname: string) => SpecOperation | undefined {
  if (String(document.info?.version) !== version) {
    throw new Error(`The ${plane} spec declares version ${String(document.info?.version)}, expected ${version}.`);
  }
  const requestId = `pinecone-${plane}-request.json`;
  const responseId = `pinecone-${plane}-response.json`;
  const makeAjv = (coerceTypes: boolean | 'array') => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, coerceTypes });
    ajvFormats(ajv);
    // Requests are validated against a closed copy: an object schema that lists its properties
    // accepts no others, so a misspelt or invented field fails here instead of being ignored.
    ajv.addSchema(closeObjects(structuredClone(document)), requestId);
    ajv.addSchema(document, responseId);
    return ajv;
  };
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  const routes: {
    pattern: RegExp;
    names: string[];
    template: string;
    method: string;
    operation: OpenApiOperation;
    compiled?: CompiledOperation;
  }[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) routes.push({ pattern, names, template, method, operation });
    }
  }
  return (method, pathname) => {
    for (const route of routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(pathname);
      if (!match) continue;
      route.compiled ??= compileOperation(route.template, route.method, route.operation, { strict, coercing, requestId, responseId });
      const pathParams = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)]));
      return { ...route.compiled, pathParams };
    }
    return undefined;
  };
}

type CompiledOperation = Omit<SpecOperation, 'pathParams'>;

function compileOperation(
  template: string,
  method: string,
  operation: OpenApiOperation,
  context: { strict: Ajv; coercing: Ajv; requestId: string; responseId: string },
): CompiledOperation {
  const pointer = `#/paths/${escapePointer(template)}/${method}`;
  const parameters = operation.parameters ?? [];
  const headerParameters = parameters.filter((parameter) => parameter.in === 'header');
  const queryParameters = parameters.filter((parameter) => parameter.in === 'query');
  const queryValidator = context.coercing.compile({
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      parameters.flatMap((parameter, index) =>
        parameter.in === 'query' ? [[parameter.name, { $ref: `${context.requestId}${pointer}/parameters/${index}/schema` }]] : [],
      ),
    ),
    required: queryParameters.filter((parameter) => parameter.required).map((parameter) => parameter.name),
  });
  const headerValidator = context.strict.compile({
    type: 'object',
    properties: Object.fromEntries(
      parameters.flatMap((parameter, index) =>
        parameter.in === 'header'
          ? [[parameter.name.toLowerCase(), { $ref: `${context.requestId}${pointer}/parameters/${index}/schema` }]]
          : [],
      ),
    ),
    required: headerParameters.filter((parameter) => parameter.required).map((parameter) => parameter.name.toLowerCase()),
  });
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  const bodyValidator = bodySchema
    ? context.strict.compile({ $ref: `${context.requestId}${pointer}/requestBody/content/application~1json/schema` })
    : undefined;
  const responseValidators = new Map<string, ValidateFunction | null>();
  for (const [code, response] of Object.entries(operation.responses ?? {})) {
    const schema = response.content?.['application/json']?.schema;
    responseValidators.set(
      code.toUpperCase(),
      schema
        ? context.strict.compile({
            $ref: `${context.responseId}${pointer}/responses/${escapePointer(code)}/content/application~1json/schema`,
          })
        : null,
    );
  }
  return {
    operationId: operation.operationId ?? `${method} ${template}`,
    validateRequest(request) {
      const errors: string[] = [];
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]),
      );
      if (!headerValidator(headers)) errors.push(...describe('header', headerValidator.errors));
      const query: Record<string, string | string[]> = {};
      for (const name of new Set(request.query.keys())) {
        const parameter = queryParameters.find((candidate) => candidate.name === name);
        const values = request.query.getAll(name);
        query[name] = parameter?.schema?.['type'] === 'array' ? values : values.at(-1)!;
      }
      if (!queryValidator(query)) errors.push(...describe('query', queryValidator.errors));
      if (bodyValidator) {
        if (request.body === undefined) {
          if (operation.requestBody?.required) errors.push('body is required');
        } else if (!bodyValidator(request.body)) {
          errors.push(...describe('body', bodyValidator.errors));
        }
      } else if (request.body !== undefined) {
        errors.push('body: this operation takes no request body');
      }
      return errors;
    },
    validateResponse(status, body) {
      const code = String(status);
      const key = responseValidators.has(code)
        ? code
        : responseValidators.has(`${code[0]}XX`)
          ? `${code[0]}XX`
          : responseValidators.has('DEFAULT')
            ? 'DEFAULT'
            : undefined;
      if (key === undefined) return [`status ${status} is not a documented response of ${operation.operationId ?? template}`];
      const validator = responseValidators.get(key);
      if (!validator) return [];
      return validator(body) ? [] : describe('response', validator.errors);
    },
  };
}

/** Adds `additionalProperties: false` to every object schema that lists `properties` and says nothing else. */
function closeObjects<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(closeObjects);
  } else if (typeof node === 'object' && node !== null) {
    const object = node as JsonObject;
    if (typeof object['properties'] === 'object' && object['properties'] !== null && !('additionalProperties' in object)) {
      object['additionalProperties'] = false;
    }
    for (const value of Object.values(object)) closeObjects(value);
  }
  return node;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const extra =
      error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})` : '';
    return `${where}${error.instancePath} ${error.message ?? error.keyword}${extra}`;
  });
}
