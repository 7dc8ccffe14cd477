import { describe, expect, it } from 'vitest';
import { SHEDDING_HOLD_MS, SMALL_BODY_BYTES, createAdmission, type ShedReason } from './admission.ts';

/** An admission with a hand-driven clock and event loop: `endTurn()` runs what would run after the turn. */
function createTestAdmission(options: { maxInflightRequests?: number; maxInflightBodyBytes?: number; maxBusyMs?: number } = {}) {
  let clock = 0;
  let pending: (() => void)[] = [];
  const shed: ShedReason[] = [];
  const admission = createAdmission({
    maxInflightRequests: options.maxInflightRequests ?? 10,
    maxInflightBodyBytes: options.maxInflightBodyBytes ?? 8 * SMALL_BODY_BYTES,
    maxBusyMs: options.maxBusyMs ?? 100,
    now: () => clock,
    afterPoll: (callback) => pending.push(callback),
    onShed: (reason) => shed.push(reason),
  });
  const poll = () => {
    const callbacks = pending;
    pending = [];
    for (const callback of callbacks) callback();
  };
  return { admission, shed, poll, advance: (ms: number) => (clock += ms) };
}

const refusalOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    return error as { status: number; code: string; headers: Record<string, string> };
  }
  throw new Error('expected a refusal');
};

describe('createAdmission', () => {
  it('admits up to the request budget, refuses the next with 503 and Retry-After, and admits again after a release', () => {
    const { admission, shed } = createTestAdmission({ maxInflightRequests: 2 });
    const first = admission.admit(100);
    admission.admit(100);
    const refusal = refusalOf(() => admission.admit(100));
    expect(refusal).toMatchObject({ status: 503, code: 'overloaded', headers: { 'retry-after': '1' } });
    expect(shed).toEqual(['requests']);
    first();
    first(); // a second release of the same request changes nothing
    expect(admission.getStats()).toMatchObject({ inflightRequests: 1, inflightBodyBytes: 100 });
    admission.admit(100);
    expect(() => admission.admit(100)).toThrow();
  });

  it('keeps a reserve of the body budget that only small bodies may use', () => {
    const { admission, shed } = createTestAdmission({ maxInflightBodyBytes: 8 * SMALL_BODY_BYTES });
    // Large bodies may take 7/8 of the budget: seven of one small-body size plus one byte each fit six times.
    for (let i = 0; i < 6; i++) admission.admit(SMALL_BODY_BYTES + 1);
    expect(() => admission.admit(SMALL_BODY_BYTES + 1)).toThrow();
    expect(shed).toEqual(['body_bytes']);
    // The reserve still takes small bodies.
    admission.admit(SMALL_BODY_BYTES);
    admission.admit(SMALL_BODY_BYTES / 2);
    expect(() => admission.admit(SMALL_BODY_BYTES)).toThrow();
  });

  it('runs work at once while the turn has time, then makes it wait, first come first served, for later turns', async () => {
    const { admission, poll, advance } = createTestAdmission({ maxBusyMs: 100 });
    const ran: string[] = [];
    // Each request does 60 ms of work between waitForTurn and endWork.
    const request = async (name: string) => {
      const turn = admission.waitForTurn();
      if (turn !== undefined) await turn;
      ran.push(name);
      advance(60);
      admission.endWork();
    };
    const requests = ['a', 'b', 'c', 'd', 'e'].map((name) => request(name));
    await Promise.resolve();
    // a and b fit in the first 100 ms (b starts at 60 ms); c, d and e wait.
    expect(ran).toEqual(['a', 'b']);
    expect(admission.getStats().waiting).toBe(3);
    poll(); // the loop polled for I/O: a new turn resumes the first in line, which runs c then d
    await Promise.resolve();
    await Promise.resolve();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    poll();
    await Promise.all(requests);
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(admission.getStats().waiting).toBe(0);
  });

  it('never lets a newcomer overtake a waiting request, even in a turn with time left', async () => {
    const { admission, poll, advance } = createTestAdmission({ maxBusyMs: 100 });
    expect(admission.waitForTurn()).toBeUndefined();
    advance(150);
    admission.endWork();
    const first = admission.waitForTurn();
    expect(first).toBeInstanceOf(Promise);
    poll();
    // The new turn resumed the waiting request; a newcomer waits behind anything still queued.
    await first;
    expect(admission.getStats().waiting).toBe(0);
    expect(admission.waitForTurn()).toBeUndefined();
  });

  it('says it would admit without reserving or counting a refusal', () => {
    const { admission, shed } = createTestAdmission({ maxInflightRequests: 1 });
    expect(admission.wouldAdmit(10)).toBe(true);
    expect(admission.getStats().inflightRequests).toBe(0);
    admission.admit(10);
    expect(admission.wouldAdmit(10)).toBe(false);
    expect(shed).toEqual([]);
  });

  it('reports shedding for a short while after the last refusal', () => {
    const { admission, advance } = createTestAdmission({ maxInflightRequests: 1 });
    expect(admission.isShedding()).toBe(false);
    admission.admit(1);
    expect(() => admission.admit(1)).toThrow();
    expect(admission.isShedding()).toBe(true);
    expect(admission.getStats()).toMatchObject({ shedding: true, shed: { requests: 1, body_bytes: 0 } });
    advance(SHEDDING_HOLD_MS);
    expect(admission.isShedding()).toBe(false);
  });
});
