import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { AppEnv } from './state.ts';

// How handlers read request headers and build answers. Hono's own `c.req.header()` makes the adapter build a
// WHATWG Headers of every request header, and `c.header()` (or two headers given to `c.json`) a Headers of the
// answer, which the adapter then turns back into a plain object for Node: avoiding both made a single-customer
// /predict cost 0.85x the CPU (npm run bench -- --quick --also-dist, same rounds). Here the request's headers are read from Node's own parsed
// object when the adapter passes it, and answers are built with a plain header object the adapter hands to
// `writeHead` as it is.

/** A request header by its lower-case name: from Node's IncomingMessage under the Node adapter, else (app.request in tests) from the Fetch request. */
export function getRequestHeader(c: Context<AppEnv>, name: string): string | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** An answer with its body as text, its media type, this request's id (set by the app's middleware) and any extra headers. */
export function respond(c: Context<AppEnv>, body: string, contentType: string, status = 200, headers?: Record<string, string>): Response {
  const all: Record<string, string> = { 'content-type': contentType, 'x-request-id': c.get('requestId') };
  if (headers !== undefined) Object.assign(all, headers);
  return new Response(body, { status, headers: all });
}

/** A JSON answer: {@link respond} with `value` serialised. */
export const respondJson = (c: Context<AppEnv>, value: unknown, status = 200, headers?: Record<string, string>): Response =>
  respond(c, JSON.stringify(value), 'application/json', status, headers);
