// The REST API reference (/docs; the master redirects /api/docs here): the master's OpenAPI 3.1
// document (GET /api/openapi.json, public) rendered as a list of routes by tag, each a
// collapsible entry with its parameters, request body and answers, and the named schemas as
// JSON. Open without logging in, like the document itself.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { ErrorBox, Loading } from '../components/states.tsx';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Json;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  'x-wharf-auth'?: string;
  parameters?: Parameter[];
  requestBody?: { description?: string; content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json }>; headers?: Record<string, { description?: string }> }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const anchor = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** `#/components/schemas/Task` → a link to the schema below; anything else as JSON. */
function SchemaView({ schema }: { schema: Json | undefined }) {
  if (!schema) return <span className="muted">no schema: see the description</span>;
  const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
  if (ref?.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    return (
      <a
        href={`#schema-${name}`}
        className="mono"
        // open the schema's entry as the link scrolls to it
        onClick={() => (document.getElementById(`schema-${name}`) as HTMLDetailsElement | null)?.setAttribute('open', '')}
      >
        {name}
      </a>
    );
  }
  return <pre className="docs-json">{JSON.stringify(schema, null, 2)}</pre>;
}

function OperationView({ method, path, op }: { method: string; path: string; op: Operation }) {
  const auth = op['x-wharf-auth'] ?? 'user';
  return (
    <details className="docs-op card" id={op.operationId ? `op-${op.operationId}` : undefined}>
      <summary>
        <span className={`docs-method docs-method-${method}`}>{method.toUpperCase()}</span> <code className="docs-path">{path}</code>{' '}
        <span className="docs-summary">{op.summary}</span> {auth !== 'user' && <span className={`badge docs-auth-${auth}`}>{auth === 'none' ? 'no auth' : 'admin'}</span>}
      </summary>
      {op.description && <p className="muted wrap">{op.description}</p>}
      {op.parameters && op.parameters.length > 0 && (
        <>
          <h4>Parameters</h4>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">name</th>
                  <th scope="col">in</th>
                  <th scope="col">required</th>
                  <th scope="col">schema</th>
                </tr>
              </thead>
              <tbody>
                {op.parameters.map((p) => (
                  <tr key={`${p.in}-${p.name}`}>
                    <td>
                      <code>{p.name}</code>
                      {p.description && <div className="muted">{p.description}</div>}
                    </td>
                    <td>{p.in}</td>
                    <td>{p.required ? 'yes' : 'no'}</td>
                    <td>
                      <code className="wrap">{JSON.stringify(p.schema ?? {})}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {op.requestBody && (
        <>
          <h4>Request body</h4>
          {op.requestBody.description && <p className="muted">{op.requestBody.description}</p>}
          {Object.entries(op.requestBody.content ?? {}).map(([type, media], i) => (
            <div key={type}>
              <code>{type}</code>: {i === 0 ? <SchemaView schema={media.schema} /> : <span className="muted">the same</span>}
            </div>
          ))}
        </>
      )}
      <h4>Responses</h4>
      <ul className="docs-responses">
        {Object.entries(op.responses ?? {}).map(([status, answer]) => {
          const [type, media] = Object.entries(answer.content ?? {})[0] ?? [];
          return (
            <li key={status}>
              <strong>{status}</strong> {answer.description}
              {type && (
                <div>
                  <code>{type}</code>: {type === 'application/json' ? <SchemaView schema={media?.schema} /> : <span className="muted">not JSON</span>}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </details>
  );
}

export function ApiDocsPage({ fetchImpl }: { fetchImpl?: typeof fetch }) {
  const [doc, setDoc] = useState<OpenApiDocument | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const get = fetchImpl ?? globalThis.fetch.bind(globalThis);
    setError(null);
    get('/api/openapi.json', { signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error(`The master answered ${response.status} for /api/openapi.json.`);
        setDoc((await response.json()) as OpenApiDocument);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => controller.abort();
  }, [fetchImpl, attempt]);

  if (error) return <ErrorBox error={`Cannot load the API document: ${error}`} retry={() => setAttempt((n) => n + 1)} />;
  if (!doc) return <Loading what="Loading the API reference" />;

  const tags = (doc.tags ?? []).map((t) => t.name);
  const byTag = new Map<string, { method: string; path: string; op: Operation }[]>(tags.map((t) => [t, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ method, path, op });
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {});

  return (
    <main className="docs page">
      <div className="page-head">
        <h1>{doc.info.title}</h1>
        <span className="badge">v{doc.info.version}</span>
        <div className="actions">
          <a className="btn btn-small" href="/api/openapi.json">
            OpenAPI {doc.openapi} JSON
          </a>
          <Link className="btn btn-small" to="/">
            Dashboard
          </Link>
        </div>
      </div>
      {doc.info.description && <p className="muted">{doc.info.description}</p>}
      <nav aria-label="API sections" className="docs-toc">
        {[...byTag.keys()].map((tag) => (
          <a key={tag} href={`#tag-${anchor(tag)}`}>
            {tag}
          </a>
        ))}
        <a href="#schemas">Schemas</a>
      </nav>
      {[...byTag.entries()].map(([tag, ops]) => (
        <section key={tag} aria-labelledby={`tag-${anchor(tag)}`} className="docs-tag">
          <h2 id={`tag-${anchor(tag)}`}>{tag}</h2>
          {ops.map(({ method, path, op }) => (
            <OperationView key={`${method} ${path}`} method={method} path={path} op={op} />
          ))}
        </section>
      ))}
      <section aria-labelledby="schemas" className="docs-tag">
        <h2 id="schemas">Schemas</h2>
        {schemas.map(([name, schema]) => (
          <details key={name} id={`schema-${name}`} className="docs-op card">
            <summary>
              <code>{name}</code> {typeof schema.description === 'string' && <span className="docs-summary">{schema.description}</span>}
            </summary>
            <pre className="docs-json">{JSON.stringify(schema, null, 2)}</pre>
          </details>
        ))}
      </section>
    </main>
  );
}
