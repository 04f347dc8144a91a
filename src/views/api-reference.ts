// GET /docs: the API reference as a page a person reads, rendered on the server from the same OpenAPI
// document that /docs/json serves to programs. No script; everything interpolated is escaped.
import { escapeHtml } from './escape.ts';

type Schema = {
  readonly type?: string | string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
};

interface ReferenceOperation {
  readonly summary?: string;
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly required?: boolean; readonly schema?: Schema }[];
  readonly requestBody?: { readonly content: Readonly<Record<string, { readonly schema: Schema }>> };
  readonly responses?: Readonly<Record<string, { readonly description?: string; readonly content?: Readonly<Record<string, { readonly schema: Schema }>> }>>;
}

export interface ReferenceSpec {
  readonly info: { readonly title?: unknown; readonly version?: unknown; readonly description?: unknown };
  readonly paths: Readonly<Record<string, Readonly<Record<string, ReferenceOperation>>>>;
}

export function apiReferencePage(spec: ReferenceSpec): string {
  const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => operationSection(method, path, operation)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(String(spec.info.title ?? 'API'))} reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<header><a href="/">Stratus</a> › API reference</header>
<main>
<h1>${escapeHtml(String(spec.info.title ?? 'API'))} <small>${escapeHtml(String(spec.info.version ?? ''))}</small></h1>
<p>${escapeHtml(String(spec.info.description ?? ''))}</p>
<p>Every body is JSON (<code>content-type: application/json</code>). Unknown fields are refused. Every error is
<code>{"error": {"code", "message"}}</code> with its HTTP status; on the <code>/v2</code> routes it is the Open Inference
Protocol's <code>{"error": "&lt;message&gt;"}</code>, with the code in the <code>Stratus-Error-Code</code> header. The same reference for programs, as OpenAPI 3.1:
<a href="/docs/json">/docs/json</a>.</p>
<nav aria-label="operations"><ul>${Object.entries(spec.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a></li>`))
    .join('')}</ul></nav>
${operations.join('\n')}
</main>
</body>
</html>`;
}

const anchor = (method: string, path: string) => `${method}${path.replace(/[^A-Za-z0-9]+/g, '-')}`.replace(/-$/, '');

function operationSection(method: string, path: string, operation: ReferenceOperation): string {
  const body = operation.requestBody?.content['application/json']?.schema;
  const responses = Object.entries(operation.responses ?? {}).map(([status, response]) => {
    const schema = response.content?.['application/json']?.schema;
    const fields = status.startsWith('2') && schema?.properties ? ` ${fieldNames(schema)}` : '';
    return `<tr><th scope="row">${escapeHtml(status)}</th><td>${escapeHtml(response.description ?? '')}${fields}</td></tr>`;
  });
  // Header parameters, as a body's fields are shown: name, type, whether required, what it does.
  const headers = (operation.parameters ?? []).filter((parameter) => parameter.in === 'header');
  const headerSchema: Schema = {
    properties: Object.fromEntries(headers.map((header) => [header.name, header.schema ?? {}])),
    required: headers.filter((header) => header.required).map((header) => header.name),
  };
  return `<section class="operation" id="${anchor(method, path)}">
<h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2>
<p>${escapeHtml(operation.summary ?? '')}</p>
${headers.length > 0 ? `<h3>Headers</h3>\n${fieldsTable(headerSchema, 'Header')}` : ''}
${body ? `<h3>Body</h3>\n${fieldsTable(body)}` : ''}
<h3>Answers</h3>
<table class="responses"><tbody>${responses.join('')}</tbody></table>
</section>`;
}

function fieldsTable(schema: Schema, heading = 'Field'): string {
  const rows = Object.entries(schema.properties ?? {}).map(
    ([name, field]) =>
      `<tr><th scope="row"><code>${escapeHtml(name)}</code></th><td>${escapeHtml(typeOf(field))}</td><td>${schema.required?.includes(name) ? 'required' : 'optional'}</td><td>${escapeHtml(field.description ?? '')}</td></tr>`,
  );
  return `<table class="fields"><thead><tr><th scope="col">${heading}</th><th scope="col">Type</th><th scope="col"></th><th scope="col"></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function fieldNames(schema: Schema): string {
  return `(<code>${Object.keys(schema.properties ?? {}).map(escapeHtml).join('</code>, <code>')}</code>)`;
}

/** A field's type as a person reads it: "array of number in 0..1, 784 items", "string, ≤ 128 chars". */
function typeOf(schema: Schema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' or ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
  const limits = [
    schema.minimum !== undefined || schema.maximum !== undefined ? `in ${schema.minimum ?? '…'}..${schema.maximum ?? '…'}` : '',
    schema.minItems !== undefined && schema.minItems === schema.maxItems ? `${schema.minItems} items` : '',
    schema.minItems !== schema.maxItems ? [schema.minItems !== undefined ? `≥ ${schema.minItems}` : '', schema.maxItems !== undefined ? `≤ ${schema.maxItems} items` : ''].filter(Boolean).join(', ') : '',
    schema.maxLength !== undefined ? `≤ ${schema.maxLength} chars` : '',
  ].filter(Boolean);
  const base = type === 'array' && schema.items ? `array of ${typeOf(schema.items)}` : type;
  return [base, ...limits].join(', ');
}
