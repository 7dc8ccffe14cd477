import { describe, expect, it } from 'vitest';
import { createLogger, formatLine } from './logger.ts';

describe('logger', () => {
  it('formats the same JSON as JSON.stringify, skipping undefined fields and writing non-finite numbers as null', () => {
    const line = formatLine('info', 'request "quoted"', { id: 'a\nb', status: 200, ok: true, none: null, skipped: undefined, bad: Number.NaN });
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ level: 'info', msg: 'request "quoted"', id: 'a\nb', status: 200, ok: true, none: null, bad: null });
    expect('skipped' in parsed).toBe(false);
    expect(Date.parse(parsed.time)).not.toBeNaN();
    expect(line.endsWith('}\n')).toBe(true);
  });

  it('buffers lines, writes them together in order, and flushes on demand', async () => {
    const chunks: string[] = [];
    const logger = createLogger({ write: (chunk) => chunks.push(chunk), flushIntervalMs: 5 });
    logger.info('one');
    logger.info('two');
    expect(chunks).toEqual([]);
    await new Promise((done) => setTimeout(done, 20));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.split('\n').filter(Boolean).map((line) => JSON.parse(line).msg)).toEqual(['one', 'two']);
    logger.warn('three');
    logger.flush();
    expect(chunks).toHaveLength(2);
  });

  it('drops lines below its level', () => {
    const chunks: string[] = [];
    const logger = createLogger({ level: 'warn', write: (chunk) => chunks.push(chunk), maxBufferBytes: 0 });
    logger.info('quiet');
    logger.error('loud');
    expect(chunks.map((chunk) => JSON.parse(chunk).msg)).toEqual(['loud']);
  });
});
