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
    afterTurn: (callback) => pending.push(callback),
    onShed: (reason) => shed.push(reason),
  });
  const endTurn = () => {
    const callbacks = pending;
    pending = [];
    for (const callback of callbacks) callback();
  };
  return { admission, shed, endTurn, advance: (ms: number) => (clock += ms) };
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

  it('refuses once one event-loop turn has been busy for the budget, and admits again in the next turn', () => {
    const { admission, shed, endTurn, advance } = createTestAdmission({ maxBusyMs: 100 });
    admission.admit(10)();
    advance(60);
    admission.admit(10)();
    advance(50);
    expect(() => admission.admit(10)).toThrow();
    expect(() => admission.checkBusy()).toThrow();
    expect(shed).toEqual(['busy', 'busy']);
    endTurn();
    expect(() => admission.admit(10)).not.toThrow();
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
    expect(admission.getStats()).toMatchObject({ shedding: true, shed: { requests: 1, body_bytes: 0, busy: 0 } });
    advance(SHEDDING_HOLD_MS);
    expect(admission.isShedding()).toBe(false);
  });
});
