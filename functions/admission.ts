import { createOverloadedError, type ApiError } from './errors.ts';

/** A request body at most this large counts as small: small bodies may use the budget's reserve. */
export const SMALL_BODY_BYTES = 64 * 1024;
/** Share of the body-byte budget that only small bodies may use, so parked large uploads cannot starve them. */
export const SMALL_BODY_RESERVE_SHARE = 0.125;
/** How long /ready keeps answering 503 after the last refused request. */
export const SHEDDING_HOLD_MS = 1000;

/** Why a request was refused, for the `reason` label of the shed counter. */
export type ShedReason = 'requests' | 'body_bytes' | 'busy';

/** Budgets of one process; see config.ts for how the defaults are derived. */
export interface AdmissionOptions {
  /** Requests with a body admitted and not yet answered. */
  maxInflightRequests: number;
  /** Body bytes those requests may hold at once (their Content-Length, or the body limit when chunked). */
  maxInflightBodyBytes: number;
  /** Longest stretch of one event-loop turn spent on requests before further ones are refused. */
  maxBusyMs: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
  /** Runs a callback once the current event-loop turn has ended (tests pass their own). */
  afterTurn?: (callback: () => void) => void;
  /** Called with the reason of every refusal (metrics). */
  onShed?: (reason: ShedReason) => void;
}

/** What admission is doing now, for /health. */
export interface AdmissionStats {
  inflightRequests: number;
  inflightBodyBytes: number;
  shedding: boolean;
  shed: Record<ShedReason, number>;
}

/**
 * Admission control of requests that carry a body (/predict, /feedback). Three budgets bound what clients
 * can make the process hold or do: requests in flight, body bytes in flight, and how long one turn of the
 * event loop may spend on requests (past it, accepting connections and answering probes would wait). A
 * request over a budget is refused at once with 503 and Retry-After, before its body is read.
 */
export interface Admission {
  /** Whether a request with a body of `bodyBytes` would be admitted now; reserves and records nothing. */
  wouldAdmit(bodyBytes: number): boolean;
  /** Reserve room for a request with a body of at most `bodyBytes`; returns the release (call it once), or throws 503. */
  admit(bodyBytes: number): () => void;
  /** Throws 503 when this event-loop turn has already been busy for the budget: called before expensive work. */
  checkBusy(): void;
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
  afterTurn = (callback) => setImmediate(callback),
  onShed = () => {},
}: AdmissionOptions): Admission {
  const largeBodyBytes = Math.floor(maxInflightBodyBytes * (1 - SMALL_BODY_RESERVE_SHARE));
  let inflightRequests = 0;
  let inflightBodyBytes = 0;
  let lastShedAt = Number.NEGATIVE_INFINITY;
  const shed: Record<ShedReason, number> = { requests: 0, body_bytes: 0, busy: 0 };
  // The turn starts with the first request the loop handles after being idle or after its last turn;
  // setImmediate runs once the loop has finished polling, i.e. when this turn's work is done.
  let turnStartedAt = -1;
  const endTurn = () => {
    turnStartedAt = -1;
  };
  const getTurnMs = (at: number) => {
    if (turnStartedAt < 0) {
      turnStartedAt = at;
      afterTurn(endTurn);
    }
    return at - turnStartedAt;
  };

  const MESSAGES: Record<ShedReason, string> = {
    requests: 'The server is answering as many requests as it may; retry shortly.',
    body_bytes: 'The server holds as many request bodies as it may; retry shortly.',
    busy: 'The server is busy; retry shortly.',
  };
  const refuse = (reason: ShedReason): ApiError => {
    shed[reason]++;
    lastShedAt = now();
    onShed(reason);
    return createOverloadedError(MESSAGES[reason]);
  };
  const findReason = (bodyBytes: number): ShedReason | undefined => {
    if (inflightRequests >= maxInflightRequests) return 'requests';
    const limit = bodyBytes > SMALL_BODY_BYTES ? largeBodyBytes : maxInflightBodyBytes;
    if (inflightBodyBytes + bodyBytes > limit) return 'body_bytes';
    if (getTurnMs(now()) > maxBusyMs) return 'busy';
    return undefined;
  };

  return {
    wouldAdmit: (bodyBytes) => findReason(bodyBytes) === undefined,
    admit(bodyBytes) {
      const reason = findReason(bodyBytes);
      if (reason !== undefined) throw refuse(reason);
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
    checkBusy() {
      if (getTurnMs(now()) > maxBusyMs) throw refuse('busy');
    },
    isShedding: () => now() - lastShedAt < SHEDDING_HOLD_MS,
    getStats: () => ({ inflightRequests, inflightBodyBytes, shedding: now() - lastShedAt < SHEDDING_HOLD_MS, shed: { ...shed } }),
  };
}
