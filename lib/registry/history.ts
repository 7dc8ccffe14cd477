import { computeDigest } from '../model/artifact.ts';

/** The file, per model, recording every publish, promotion and rollback in order. */
export const HISTORY_FILE = 'history.jsonl';
/** The file, per model, holding where each alias points now (a view of the history). */
export const ALIASES_FILE = 'aliases.json';
/** The `previous` of the first event. */
export const GENESIS = `sha256:${'0'.repeat(64)}`;

/** One line of the history. `previous` is the digest of the line before, so no line can change unnoticed. */
export interface HistoryEvent {
  sequence: number;
  at: string;
  event: 'publish' | 'promote' | 'rollback';
  version: string;
  digest: string;
  alias?: string;
  from?: string | null;
  reason?: string;
  previous: string;
}

/** Where an alias points. */
export interface AliasTarget {
  version: string;
  digest: string;
}

/** Raised when the history is malformed or its chain is broken; names the line. */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** Parse the history and check its chain: sequence numbers and `previous` digests. */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  let previous = GENESIS;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    let event: HistoryEvent;
    try {
      event = JSON.parse(line) as HistoryEvent;
    } catch {
      throw new HistoryError(`${HISTORY_FILE} line ${index + 1} is not JSON`);
    }
    if (event.sequence !== index + 1) throw new HistoryError(`${HISTORY_FILE} line ${index + 1} has sequence ${event.sequence}`);
    if (event.previous !== previous) throw new HistoryError(`${HISTORY_FILE} line ${index + 1} does not chain to line ${index}: an earlier line was changed`);
    if (!['publish', 'promote', 'rollback'].includes(event.event)) throw new HistoryError(`${HISTORY_FILE} line ${index + 1} has unknown event ${event.event}`);
    events.push(event);
    previous = computeDigest(line);
  });
  return events;
}

/** Create the line that appends `event` to a history whose events are `events`, chained to the last line. */
export function createHistoryLine(events: HistoryEvent[], lastLine: string | undefined, event: Omit<HistoryEvent, 'sequence' | 'previous'>): string {
  const full: HistoryEvent = { sequence: events.length + 1, ...event, previous: lastLine === undefined ? GENESIS : computeDigest(lastLine) };
  return JSON.stringify(full);
}

/** Replay the history into the current alias table. */
export function getAliases(events: HistoryEvent[]): Record<string, AliasTarget> {
  const aliases: Record<string, AliasTarget> = {};
  for (const event of events) {
    if (event.alias !== undefined && event.event !== 'publish') aliases[event.alias] = { version: event.version, digest: event.digest };
  }
  return Object.fromEntries(Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b)));
}

/** The digest each version was published with. */
export function getPublishedVersions(events: HistoryEvent[]): Map<string, HistoryEvent> {
  return new Map(events.filter((event) => event.event === 'publish').map((event) => [event.version, event]));
}

/**
 * The version an alias pointed to before its current target: the target of the promotion that the
 * current assignment replaced. Rollbacks count as assignments, so rolling back twice walks further back.
 */
export function getRollbackTarget(events: HistoryEvent[], alias: string): AliasTarget | undefined {
  const assignments = events.filter((event) => event.alias === alias && event.event !== 'publish');
  // A stack of targets: a promotion pushes, a rollback pops.
  const stack: AliasTarget[] = [];
  for (const event of assignments) {
    if (event.event === 'promote') stack.push({ version: event.version, digest: event.digest });
    else stack.pop();
  }
  return stack.length >= 2 ? stack[stack.length - 2] : undefined;
}
