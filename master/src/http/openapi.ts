// The OpenAPI 3.1 document of the REST API, built once at start from the route table
// (api-route-docs.ts) with zod's own JSON Schema output (draft 2020-12, the dialect of OpenAPI
// 3.1): request bodies and parameters as the handlers' schemas accept them (io: 'input', so
// defaults are optional and transforms show what they read), responses as the views produce them
// (io: 'output'). Served at GET /api/openapi.json and rendered by the dashboard at /docs.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { API_ROUTE_DOCS, NAMED_INPUT_SCHEMAS, NAMED_SCHEMAS, type ResponseDoc, type RouteDoc } from './api-route-docs.js';
import { errorEnvelopeSchema } from './view-schemas.js';

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

const schemaRef = (name: string): string => `#/components/schemas/${name}`;
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Leaves zod's long regular expressions out where a format says it (date-time, email), and the safe-integer bounds every int carries. */
function tidy(ctx: { jsonSchema: JsonSchema }): void {
  const schema = ctx.jsonSchema;
  if (typeof schema.format === 'string' && ['date-time', 'email'].includes(schema.format)) delete schema.pattern;
  for (const key of ['minimum', 'maximum'] as const) {
    if (typeof schema[key] === 'number' && SAFE_INTEGER_BOUNDS.has(schema[key])) delete schema[key];
  }
}

/** A converted schema without the $schema/$id that only a standalone JSON Schema needs. */
function bare(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

type NamedRegistry = z.core.$ZodRegistry<{ id: string }>;

/** The schema's name in `registry`, registering it under `name` when it has none yet. */
function nameOf(registry: NamedRegistry, schema: z.ZodType, name: string): string {
  const known = registry.get(schema);
  if (known) return known.id;
  registry.add(schema, { id: name });
  return name;
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const AUTH_TEXT = {
  none: 'No authentication.',
  user: 'Any logged-in user: `Authorization: Bearer <login token or API token>`.',
  admin: 'Admins only: `Authorization: Bearer <token of an admin>`.',
} as const;

/** Builds the document. Throws when the table is inconsistent (a path parameter without a schema, an operationId used twice). */
export function buildOpenApiDocument(routes: readonly RouteDoc[] = API_ROUTE_DOCS): OpenApiDocument {
  const outputs: NamedRegistry = z.registry<{ id: string }>();
  const inputs: NamedRegistry = z.registry<{ id: string }>();
  for (const [name, schema] of NAMED_SCHEMAS) outputs.add(schema, { id: name });
  outputs.add(errorEnvelopeSchema, { id: 'Error' });
  for (const [name, schema] of NAMED_INPUT_SCHEMAS) inputs.add(schema, { id: name });

  const operationIds = new Set<string>();
  const inline = (schema: z.ZodType): JsonSchema => bare(z.toJSONSchema(schema, { io: 'input', override: tidy }) as JsonSchema);
  const paths: OpenApiDocument['paths'] = {};
  const tags: string[] = [];

  for (const route of routes) {
    if (operationIds.has(route.operationId)) throw new Error(`openapi: operationId ${route.operationId} is used twice`);
    operationIds.add(route.operationId);
    if (!tags.includes(route.tag)) tags.push(route.tag);
    const op = capitalised(route.operationId);

    const parameters: JsonSchema[] = [];
    const named = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const name of named) {
      const schema = route.params?.[name];
      if (!schema) throw new Error(`openapi: ${route.method} ${route.path} has no schema for path parameter ${name}`);
      parameters.push({ name, in: 'path', required: true, schema: inline(schema) });
    }
    for (const name of Object.keys(route.params ?? {})) {
      if (!named.includes(name)) throw new Error(`openapi: ${route.method} ${route.path} has no {${name}} for its parameter`);
    }
    if (route.query) {
      const query = inline(route.query);
      const required = Array.isArray(query.required) ? (query.required as string[]) : [];
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: 'query', required: required.includes(name), ...(description ? { description } : {}), schema: rest });
      }
    }

    const operation: JsonSchema = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: [AUTH_TEXT[route.auth], route.description].filter(Boolean).join('\n\n'),
      'x-wharf-auth': route.auth,
      security: route.auth === 'none' ? [] : [{ bearer: [] }],
    };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body) {
      const ref = { $ref: schemaRef(nameOf(inputs, route.body.schema, `${op}Body`)) };
      const types = route.body.contentTypes ?? ['application/json'];
      operation.requestBody = {
        required: true,
        ...(route.body.description ? { description: route.body.description } : {}),
        content: Object.fromEntries(types.map((type) => [type, { schema: ref }])),
      };
    }

    const responses: Record<string, JsonSchema> = {};
    const successes = Object.entries(route.responses);
    for (const [status, doc] of successes) {
      responses[status] = responseObject(doc, successes.length > 1 ? `${op}Response${status}` : `${op}Response`, outputs);
    }
    const errors: Record<string, string> = {};
    if (route.auth !== 'none') errors[401] = 'no token, or a bad, expired or revoked one';
    if (route.auth === 'admin') errors[403] = 'the user is not an admin';
    for (const [status, when] of Object.entries(route.errors ?? {})) errors[status] = errors[status] ? `${errors[status]}; ${when}` : when;
    for (const [status, when] of Object.entries(errors)) {
      responses[status] = { description: when, content: { 'application/json': { schema: { $ref: schemaRef('Error') } } } };
    }
    operation.responses = responses;

    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`openapi: ${route.method} ${route.path} is listed twice`);
    item[route.method] = operation;
  }

  const schemas: Record<string, JsonSchema> = {};
  const add = (converted: { schemas: Record<string, unknown> }): void => {
    for (const [name, schema] of Object.entries(converted.schemas)) {
      if (schemas[name]) throw new Error(`openapi: two schemas are named ${name}`);
      schemas[name] = bare(schema as JsonSchema);
    }
  };
  add(z.toJSONSchema(outputs, { io: 'output', uri: schemaRef, override: tidy }));
  add(z.toJSONSchema(inputs, { io: 'input', uri: schemaRef, override: tidy }));

  return {
    openapi: '3.1.0',
    info: {
      title: 'Wharf API',
      version: masterVersion(),
      description:
        'The REST API of the Wharf master, generated from the zod schemas that validate its requests and describe its answers. ' +
        'Every error is `{"error": {"code", "message"}}` with the message naming the field. Prose, the WebSockets and the gRPC API: docs/API.md.',
    },
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a login token (POST /api/auth/login) or an API token (wharf_pat_…)' },
      },
    },
  };
}

function responseObject(doc: ResponseDoc, name: string, outputs: NamedRegistry): JsonSchema {
  const headers = doc.headers
    ? { headers: Object.fromEntries(Object.entries(doc.headers).map(([header, description]) => [header, { description, schema: { type: 'string' } }])) }
    : {};
  if (doc.schema) {
    // a route may answer JSON or another type by its query (GET /api/tasks/{id}/logs)
    const other = doc.contentType ? { [doc.contentType]: { schema: { type: 'string' } } } : {};
    return { description: doc.description, ...headers, content: { 'application/json': { schema: { $ref: schemaRef(nameOf(outputs, doc.schema, name)) } }, ...other } };
  }
  if (doc.contentType) return { description: doc.description, ...headers, content: { [doc.contentType]: { schema: { type: 'string' } } } };
  return { description: doc.description, ...headers };
}

/** The master's package version (master/package.json, from src/http and dist/http alike). */
function masterVersion(): string {
  try {
    const parsed = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
