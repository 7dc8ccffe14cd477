import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';

/** Bytes a load may still read; shared by the parallel downloads of one version. */
export interface ByteBudget {
  readonly limitBytes: number;
  /** Bytes not yet taken. */
  getRemainingBytes(): number;
  /** Take `bytes`, or throw a RegistryError naming `what` and the limit when there are not that many left. */
  take(bytes: number, what: string): void;
  /** Give back bytes taken by a read that failed, so that reading it again does not count them twice. */
  giveBack(bytes: number): void;
}

/** Create a budget of `limitBytes`. */
export function createByteBudget(limitBytes: number): ByteBudget {
  let remaining = limitBytes;
  return {
    limitBytes,
    getRemainingBytes: () => remaining,
    take(bytes, what) {
      if (bytes > remaining) {
        throw new RegistryError(what, `passes the download limit of ${formatBytes(limitBytes)}; stopped reading`);
      }
      remaining -= bytes;
    },
    giveBack(bytes) {
      remaining = Math.min(limitBytes, remaining + bytes);
    },
  };
}

/** Format a byte count for messages (`32 MiB`, `1.5 KiB`, `12 B`). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} B`;
}

/** What {@link readBody} checks while it streams. */
export interface ReadBodyOptions {
  /** Names the content in messages (`model.json`, `the OCI manifest of …`). */
  what: string;
  budget: ByteBudget;
  /** The exact size the content must have (an OCI descriptor's `size`). */
  expectedSize?: number | undefined;
  /** The `sha256:<hex>` the content must hash to. */
  expectedDigest?: string | undefined;
}

/**
 * Read a response body into memory, hashing and counting while it streams: a Content-Length over
 * the budget or different from `expectedSize` is refused before the first byte is read, and reading
 * stops as soon as the budget or `expectedSize` is passed. The digest is checked at the end. A read that fails
 * gives its bytes back to the budget (a download read again after a dropped connection counts once).
 */
export async function readBody(response: Response, { what, budget, expectedSize, expectedDigest }: ReadBodyOptions): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  const cancel = () => response.body?.cancel().catch(() => undefined);
  if (declared !== null && /^\d+$/.test(declared)) {
    const length = Number(declared);
    if (expectedSize !== undefined && length !== expectedSize) {
      await cancel();
      throw new RegistryError(what, `is ${length} bytes long where ${expectedSize} were expected; refused before reading it`);
    }
    if (length > budget.getRemainingBytes()) {
      await cancel();
      throw new RegistryError(
        what,
        `declares ${formatBytes(length)}, more than the ${formatBytes(budget.getRemainingBytes())} left of the ${formatBytes(budget.limitBytes)} download limit; refused before reading it`,
      );
    }
  }
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    let taken = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (expectedSize !== undefined && received > expectedSize) {
          throw new RegistryError(what, `is longer than the ${expectedSize} bytes expected; stopped reading`);
        }
        budget.take(value.byteLength, what);
        taken += value.byteLength;
        hash.update(value);
        chunks.push(value);
      }
    } catch (error) {
      budget.giveBack(taken);
      await reader.cancel().catch(() => undefined);
      throw error;
    }
  }
  if (expectedSize !== undefined && received !== expectedSize) {
    throw new RegistryError(what, `is ${received} bytes long where ${expectedSize} were expected`);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (expectedDigest !== undefined && digest !== expectedDigest) {
    throw new RegistryError(what, `has digest ${digest}, not the expected ${expectedDigest}: corrupted or tampered`);
  }
  return Buffer.concat(chunks);
}
