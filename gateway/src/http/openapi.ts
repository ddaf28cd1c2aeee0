/** The OpenAPI 3.1 document, generated from the same route declarations and zod schemas that validate requests. */
import { z } from 'zod';
import { openApiPath, type AnyRoute } from './routes.js';

/** P1: XML carries the JSON schema's data in the W3C fn:json-to-xml mapping (http/xml.ts). */
const xmlContent = {
  schema: {
    type: 'string',
    contentMediaType: 'application/xml',
    description:
      'The same data as the JSON representation, in the W3C XPath 3.1 fn:json-to-xml mapping (namespace http://www.w3.org/2005/xpath-functions): map (members keyed by a key attribute), array, string, number, boolean, null. No DOCTYPE.',
  },
};

const GENERIC = [400, 401, 406, 413, 415, 429, 500, 503];
const problemRef = { $ref: '#/components/schemas/Problem' };

function schemaOf(s: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function csvContent(r: AnyRoute): Record<string, unknown> {
  const columns = r.csv?.columns;
  return {
    'text/csv': {
      schema: {
        type: 'string',
        description: `RFC 4180 CSV with a header row${columns ? `; columns: ${columns.join(', ')}` : '; nested fields flattened to dotted columns'}`,
      },
    },
  };
}

export function openApiDocument(routes: AnyRoute[], info: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = (paths[openApiPath(r.path)] ??= {});
    const parameters: unknown[] = [];
    if (r.params) {
      const js = schemaOf(r.params) as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(js.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    }
    if (r.query) {
      const js = schemaOf(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {}))
        parameters.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
    }
    if (r.csv) {
      parameters.push({
        name: 'format',
        in: 'query',
        required: false,
        description: 'csv: answer text/csv (RFC 4180, header row; same as Accept: text/csv)',
        schema: { type: 'string', enum: ['csv'] },
      });
      if (r.csv.paged)
        parameters.push({
          name: 'all',
          in: 'query',
          required: false,
          description: 'CSV only: stream every page from the bookmark on, one page in memory at a time',
          schema: { type: 'string', enum: ['true', 'false'] },
        });
    }
    if (r.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'A retried request with the same key returns the first result; no second transaction.',
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
      });
    }
    const ok = r.successStatus ?? 200;
    const responses: Record<string, unknown> = {
      [ok]: r.binaryResponse
        ? {
            description: r.binaryResponse.description,
            content: { [r.binaryResponse.contentType]: { schema: { type: 'string', contentMediaType: r.binaryResponse.contentType } } },
          }
        : ok === 204
          ? { description: 'Done' }
          : {
              description: 'Success',
              content: {
                ...Object.fromEntries(
                  ['application/json', 'application/cbor'].map((t) => [t, { schema: r.response ? schemaOf(r.response) : {} }]),
                ),
                'application/xml': xmlContent,
                ...(r.csv ? csvContent(r) : {}),
              },
              ...(r.csv?.paged
                ? {
                    headers: {
                      'X-Next-Bookmark': { description: 'CSV: bookmark of the next page (none on the last)', schema: { type: 'string' } },
                    },
                  }
                : {}),
            },
    };
    for (const s of [...new Set([...(r.statuses ?? []), ...GENERIC])].filter((s) => s !== ok).sort()) {
      responses[s] = {
        description: 'Problem',
        content: {
          'application/problem+json': { schema: problemRef },
          'application/problem+cbor': { schema: problemRef },
          'application/problem+xml': xmlContent,
        },
      };
    }
    p[r.method] = {
      tags: [r.tag],
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[:/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(parameters.length ? { parameters } : {}),
      ...(r.rawBody
        ? {
            requestBody: {
              required: true,
              description: r.rawBody.description,
              content: { [r.rawBody.contentType]: { schema: { type: 'string', contentMediaType: r.rawBody.contentType } } },
            },
          }
        : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                ...Object.fromEntries(['application/json', 'application/cbor'].map((t) => [t, { schema: schemaOf(r.body!) }])),
                'application/xml': xmlContent,
              },
            },
          }
        : {}),
      responses,
      ...(r.access === 'public' ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mvsec gateway',
      version: info.version,
      description:
        "Reference points R1–R6 of the cross-metaverse thing-data ledger. Every operation accepts and returns JSON or CBOR (Content-Type / Accept); errors are RFC 9457 problems (application/problem+json or +cbor) carrying the chaincode's reason: DENIED→403, INVALID→400, NOT_FOUND→404, CONFLICT→409, EXPIRED→410.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A gateway JWT from /auth/login or an OIDC access token of a configured issuer',
        },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: ['DENIED', 'INVALID', 'NOT_FOUND', 'CONFLICT', 'EXPIRED', 'INTEGRITY'] },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
