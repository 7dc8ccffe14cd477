import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { z } from 'zod';
import { isJsonSpace, type InstanceDecoder } from '../lib/model/decode.ts';
import type { Instance, InstanceCheck } from '../lib/model/signature.ts';
import { ApiError, createIncompleteBodyError, createTooLargeError } from './errors.ts';
import type { AppEnv } from './state.ts';

/** At most this many field errors are listed in one 422 answer; validation stops once it has found more. */
export const MAX_ERROR_DETAILS = 100;

/**
 * The result of checking a batch: the valid customers as sent and their input codes (`codeWidth` numbers each, in
 * order; lib/model/signature.ts), or the problems found before checking stopped.
 */
export type BatchResult = { ok: true; instances: Instance[]; codes: Float64Array } | { ok: false; error: z.ZodError; more: boolean };

// Input codes are carved from shared 64 KiB blocks, as Node's Buffer pool does: a typed array with its own
// buffer of more than 64 bytes lives outside V8's heap and cost ~0.8 us to allocate (measured alone), as much as
// scoring one customer; a view on a block costs ~0.07 us. No region is handed out twice, so views never alias;
// a block is freed once no view of it lives. Batches too large for a block get their own buffer.
const CODE_BLOCK_BYTES = 64 * 1024;
let codeBlock = new ArrayBuffer(CODE_BLOCK_BYTES);
let codeBlockUsed = 0;

/** A zeroed Float64Array of `length` for one batch's input codes. */
export function allocateCodes(length: number): Float64Array {
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  if (bytes > CODE_BLOCK_BYTES / 4) return new Float64Array(length);
  if (codeBlockUsed + bytes > CODE_BLOCK_BYTES) {
    codeBlock = new ArrayBuffer(CODE_BLOCK_BYTES);
    codeBlockUsed = 0;
  }
  const codes = new Float64Array(codeBlock, codeBlockUsed, length);
  codeBlockUsed += bytes;
  return codes;
}

const refuse = (path: PropertyKey[], message: string): BatchResult => ({ ok: false, error: new z.ZodError([{ code: 'custom', path, message, input: undefined }]), more: false });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What checks one customer: the fast path for valid ones, and the zod schema that says what is wrong with the others. */
export interface InstanceValidator {
  instanceSchema: z.ZodObject;
  checkInstance: InstanceCheck;
  /** Input codes per customer: the signature's inputs. */
  codeWidth: number;
}

/**
 * Check `{"instances": [customer, ...]}` against the served signature, customer by customer, and stop once
 * more than `maxIssues` problems are known: a batch of 1,000 empty objects is refused after a few of them
 * instead of after 19,000 issues, so an invalid batch costs no more than a valid one. A valid customer takes
 * the fast check; zod names the problems of the others. The caller checks the batch size first (413).
 */
export function validateBatch(body: unknown, { instanceSchema, checkInstance, codeWidth }: InstanceValidator, { maxIssues = MAX_ERROR_DETAILS } = {}): BatchResult {
  if (!isRecord(body)) return refuse([], 'expected an object with an "instances" array');
  const { instances } = body;
  if (!Array.isArray(instances)) return refuse(['instances'], 'expected an array of customers');
  if (instances.length === 0) return refuse(['instances'], 'expected at least one customer');
  const codes = allocateCodes(instances.length * codeWidth);
  const issues: z.core.$ZodIssue[] = [];
  for (let i = 0; i < instances.length && issues.length <= maxIssues; i++) {
    if (checkInstance(instances[i], codes, i * codeWidth)) continue;
    const result = instanceSchema.safeParse(instances[i]);
    // The fast check and the schema accept the same customers (tested); one the schema alone accepts is a bug here.
    if (result.success) throw new Error(`customer ${i} passed the schema but not the fast check`);
    for (const issue of result.error.issues) issues.push({ ...issue, path: ['instances', i, ...issue.path] });
  }
  if (issues.length === 0) return { ok: true, instances: instances as Instance[], codes };
  return { ok: false, error: new z.ZodError(issues.slice(0, maxIssues)), more: issues.length > maxIssues };
}

/** What decodes a batch straight from its bytes: the served model's customer decoder and its input codes per customer. */
export interface BatchDecoder {
  decodeInstance: InstanceDecoder;
  codeWidth: number;
}

// Codes are decoded into this buffer before the customers are counted, then copied to their own (decoding is
// synchronous, so one buffer serves every request). It grows to the largest batch decoded.
let decodedCodes = new Float64Array(1024);

const INSTANCES_KEY = new TextEncoder().encode('"instances"');

/**
 * Decode `{"instances": [customer, ...]}` straight from the request's bytes into input codes
 * (lib/model/decode.ts), without JSON.parse. Answers undefined for anything outside what the decoder accepts — another
 * field, no or over `maxInstances` customers, a customer it declines — and the body is then parsed and checked as
 * usual ({@link validateBatch}), which also says what is wrong. Never accepts a body that path refuses.
 */
export function decodeBatch(bytes: Uint8Array, { decodeInstance, codeWidth }: BatchDecoder, maxInstances: number): { count: number; codes: Float64Array } | undefined {
  let p = 0;
  while (isJsonSpace(bytes[p])) p++;
  if (bytes[p++] !== 0x7b) return undefined; // {
  while (isJsonSpace(bytes[p])) p++;
  for (let k = 0; k < INSTANCES_KEY.length; k++) if (bytes[p++] !== INSTANCES_KEY[k]) return undefined;
  while (isJsonSpace(bytes[p])) p++;
  if (bytes[p++] !== 0x3a) return undefined; // :
  while (isJsonSpace(bytes[p])) p++;
  if (bytes[p++] !== 0x5b) return undefined; // [
  let count = 0;
  for (;;) {
    if (count === maxInstances) return undefined;
    if ((count + 1) * codeWidth > decodedCodes.length) {
      const grown = new Float64Array(decodedCodes.length * 2 + codeWidth);
      grown.set(decodedCodes);
      decodedCodes = grown;
    }
    while (isJsonSpace(bytes[p])) p++;
    p = decodeInstance(bytes, p, decodedCodes, count * codeWidth);
    if (p < 0) return undefined;
    count++;
    while (isJsonSpace(bytes[p])) p++;
    const byte = bytes[p++];
    if (byte === 0x2c) continue; // ,
    if (byte !== 0x5d) return undefined; // ]
    break;
  }
  while (isJsonSpace(bytes[p])) p++;
  if (bytes[p++] !== 0x7d) return undefined; // }
  while (isJsonSpace(bytes[p])) p++;
  if (p !== bytes.length) return undefined;
  const codes = allocateCodes(count * codeWidth);
  codes.set(decodedCodes.subarray(0, count * codeWidth));
  return { count, codes };
}

/** The size a body will have, from its headers: its Content-Length, or undefined when it streams without one (chunked). */
export function getDeclaredBodyBytes(header: (name: string) => string | undefined): number | undefined {
  const length = header('content-length');
  return length === undefined || header('transfer-encoding') !== undefined ? undefined : Number(length);
}

/** A client that stops sending mid-body is its own problem (400); a 408 attached by the server's timeout stays a 408. */
const toBodyError = (error: unknown) => (error instanceof ApiError ? error : createIncompleteBodyError());

/** Collect the body of Node's own request as it arrives, at most `maxBytes` (413 past it), without copying a chunk. */
function readIncomingChunks(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const finish = (error?: unknown) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (error === undefined) resolve(chunks);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBytes) finish(createTooLargeError(`The request body exceeds ${maxBytes} bytes.`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    // Closed before its end: the client left mid-body, or the server's request timeout destroyed it (its 408 error).
    const onClose = () => finish(incoming.errored ?? createIncompleteBodyError());
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
    // A request destroyed while it waited for admission has already emitted its events.
    if (incoming.errored) finish(incoming.errored);
    else if (incoming.destroyed && !incoming.readableEnded) finish(createIncompleteBodyError());
  });
}

/**
 * Read a request body, at most `maxBytes`, as the chunks it arrived in. Under the Node adapter they are read from
 * Node's own request, so no chunk is copied and no buffer is allocated for the body (a 1,000-customer batch is
 * ~430 KB: the adapter's read copied it twice, and buffers outside V8's heap count against its collection
 * limits); elsewhere (`app.request()` in tests) through the Fetch request. A body with a Content-Length was
 * already checked against the limit; any other is counted while it streams and refused with 413 once past the
 * limit (what is left is discarded by the adapter after the answer). A body that ends early never becomes a 500.
 */
export async function readBody(c: Context<AppEnv>, maxBytes: number, declaredBytes: number | undefined): Promise<Uint8Array[]> {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  try {
    if (incoming !== undefined) return await readIncomingChunks(incoming, maxBytes);
    if (declaredBytes !== undefined) return [new Uint8Array(await c.req.arrayBuffer())];
    const reader = c.req.raw.body?.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (reader !== undefined) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > maxBytes) throw createTooLargeError(`The request body exceeds ${maxBytes} bytes.`);
          chunks.push(value);
        }
      } finally {
        reader.releaseLock();
      }
    }
    return chunks;
  } catch (error) {
    throw toBodyError(error);
  }
}

// Bodies of more than one chunk are put together here, synchronously, right before they are decoded or parsed:
// one buffer for the process, grown to the largest body, instead of one per request.
let joinedBody = new Uint8Array(64 * 1024);

/**
 * A body's chunks as one byte array: the chunk itself when there is one, else a view on a shared buffer that the
 * next call overwrites, so read it before anything awaits.
 */
export function joinBody(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  if (total > joinedBody.length) joinedBody = new Uint8Array(Math.max(total, joinedBody.length * 2));
  let at = 0;
  for (const chunk of chunks) {
    joinedBody.set(chunk, at);
    at += chunk.byteLength;
  }
  return joinedBody.subarray(0, total);
}

const textDecoder = new TextDecoder();

/** A body's bytes as text, as `Request.text()` reads them: UTF-8, a leading byte-order mark dropped, bad bytes replaced. */
export const getBodyText = (bytes: Uint8Array): string => textDecoder.decode(bytes);
