import { createOverloadedError, type ApiError } from './errors.ts';

/** A request body at most this large counts as small: small bodies may use the budget's reserve. */
export const SMALL_BODY_BYTES = 64 * 1024;
/** Share of the body-byte budget that only small bodies may use, so parked large uploads cannot starve them. */
export const SMALL_BODY_RESERVE_SHARE = 0.125;
/** How long /ready keeps answering 503 after the last refused request. */
export const SHEDDING_HOLD_MS = 1000;

/** Why a request was refused, for the `reason` label of the shed counter. */
export type ShedReason = 'requests' | 'body_bytes';

/** Budgets of one process; see config.ts for how the defaults are derived. */
export interface AdmissionOptions {
  /** Requests with a body admitted and not yet answered, including those waiting for their turn. */
  maxInflightRequests: number;
  /** Body bytes those requests may hold at once (their Content-Length, or the body limit when chunked). */
  maxInflightBodyBytes: number;
  /** Longest stretch of one event-loop iteration spent on request work; the rest waits for later iterations. */
  maxBusyMs: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
  /** Runs a callback once the current event-loop iteration has polled for I/O (tests pass their own). */
  afterPoll?: (callback: () => void) => void;
  /** Called with the reason of every refusal (metrics). */
  onShed?: (reason: ShedReason) => void;
}

/** What admission is doing now, for /health. */
export interface AdmissionStats {
  inflightRequests: number;
  inflightBodyBytes: number;
  /** Requests waiting for a later turn of the event loop. */
  waiting: number;
  shedding: boolean;
  shed: Record<ShedReason, number>;
}

/**
 * Admission control of requests that carry a body (/predict, /feedback). Two budgets bound what clients can
 * make the process hold: requests in flight and body bytes in flight; a request over either is refused at
 * once with 503 and Retry-After, before its body is read. A third bounds what they can make it do in one
 * go: libuv accepts one new connection per turn of the event loop, so a turn spent on a thousand requests
 * would leave new connections, probes among them, waiting for seconds. Work past `maxBusyMs` in a turn
 * waits, first come first served, for later turns, and every turn still polls for connections.
 */
export interface Admission {
  /** Whether a request with a body of `bodyBytes` would be admitted now; reserves and records nothing. */
  wouldAdmit(bodyBytes: number): boolean;
  /** Reserve room for a request with a body of at most `bodyBytes`; returns the release (call it once), or throws 503. */
  admit(bodyBytes: number): () => void;
  /**
   * Before expensive work: undefined when it may run now, else a promise that resolves when its turn
   * comes. Either way, call `endWork()` once the work is done.
   */
  waitForTurn(): Promise<void> | undefined;
  /** The expensive work started after waitForTurn is done: the next waiting request may run if the turn allows. */
  endWork(): void;
  /** True within SHEDDING_HOLD_MS of a refusal: /ready answers 503 so traffic moves elsewhere. */
  isShedding(): boolean;
  getStats(): AdmissionStats;
}

/** Create the admission control of one process. */
export function createAdmission({
  maxInflightRequests,
  maxInflightBodyBytes,
  maxBusyMs,
  now = () => performance.now(),
  afterPoll = (callback) => setImmediate(callback),
  onShed = () => {},
}: AdmissionOptions): Admission {
  const largeBodyBytes = Math.floor(maxInflightBodyBytes * (1 - SMALL_BODY_RESERVE_SHARE));
  let inflightRequests = 0;
  let inflightBodyBytes = 0;
  let lastShedAt = Number.NEGATIVE_INFINITY;
  const shed: Record<ShedReason, number> = { requests: 0, body_bytes: 0 };
  const MESSAGES: Record<ShedReason, string> = {
    requests: 'The server is answering as many requests as it may; retry shortly.',
    body_bytes: 'The server holds as many request bodies as it may; retry shortly.',
  };

  // A turn starts with the first work after the loop last polled; a callback queued with setImmediate
  // runs right after the loop's next poll, which ends the turn. Waiting work resumes there.
  let turnStartedAt = -1;
  const waiting: (() => void)[] = [];
  const startTurn = () => {
    turnStartedAt = now();
    afterPoll(onPolled);
  };
  const hasTime = () => now() - turnStartedAt < maxBusyMs;
  function onPolled() {
    turnStartedAt = -1;
    if (waiting.length > 0) {
      startTurn();
      waiting.shift()!();
    }
  }

  const findReason = (bodyBytes: number): ShedReason | undefined => {
    if (inflightRequests >= maxInflightRequests) return 'requests';
    const limit = bodyBytes > SMALL_BODY_BYTES ? largeBodyBytes : maxInflightBodyBytes;
    if (inflightBodyBytes + bodyBytes > limit) return 'body_bytes';
    return undefined;
  };

  return {
    wouldAdmit: (bodyBytes) => findReason(bodyBytes) === undefined,
    admit(bodyBytes) {
      const reason = findReason(bodyBytes);
      if (reason !== undefined) {
        shed[reason]++;
        lastShedAt = now();
        onShed(reason);
        throw createOverloadedError(MESSAGES[reason]) as ApiError;
      }
      inflightRequests++;
      inflightBodyBytes += bodyBytes;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inflightRequests--;
        inflightBodyBytes -= bodyBytes;
      };
    },
    waitForTurn() {
      if (turnStartedAt < 0) startTurn();
      if (waiting.length === 0 && hasTime()) return undefined;
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    endWork() {
      // The next in line runs in this turn while it has time (its continuation follows this one's).
      if (waiting.length > 0 && turnStartedAt >= 0 && hasTime()) waiting.shift()!();
    },
    isShedding: () => now() - lastShedAt < SHEDDING_HOLD_MS,
    getStats: () => ({ inflightRequests, inflightBodyBytes, waiting: waiting.length, shedding: now() - lastShedAt < SHEDDING_HOLD_MS, shed: { ...shed } }),
  };
}
