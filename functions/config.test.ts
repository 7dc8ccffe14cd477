import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MEMORY_LIMIT_BYTES, RESERVED_MEMORY_BYTES, readConfig } from './config.ts';

const MIB = 1024 * 1024;

describe('readConfig', () => {
  it('takes defaults sized for the chart: seconds-long timeouts and a body budget from the memory limit', () => {
    const config = readConfig({}, '/registry');
    expect(config).toMatchObject({ port: 8080, registry: '/registry', maxBodyBytes: 1_024_000, headersTimeoutMs: 5000, requestTimeoutMs: 10_000, maxInflightRequests: 256, maxBusyMs: 10 });
    expect(config.maxInflightBodyBytes).toBe((DEFAULT_MEMORY_LIMIT_BYTES - RESERVED_MEMORY_BYTES) / 2);
  });

  it('sizes the body budget for the container limit it is given, unless MEMORY_LIMIT_BYTES says otherwise', () => {
    expect(readConfig({}, '/r', 512 * MIB)).toMatchObject({ memoryLimitBytes: 512 * MIB, maxInflightBodyBytes: (512 * MIB - RESERVED_MEMORY_BYTES) / 2 });
    expect(readConfig({ MEMORY_LIMIT_BYTES: String(256 * MIB) }, '/r', 512 * MIB).memoryLimitBytes).toBe(256 * MIB);
  });

  it('grows the body budget with MEMORY_LIMIT_BYTES, and never below one largest body', () => {
    expect(readConfig({ MEMORY_LIMIT_BYTES: String(512 * MIB) }, '/r').maxInflightBodyBytes).toBe((512 * MIB - RESERVED_MEMORY_BYTES) / 2);
    expect(readConfig({ MEMORY_LIMIT_BYTES: String(128 * MIB) }, '/r').maxInflightBodyBytes).toBe(Math.ceil(1_024_000 / 0.875));
  });

  it('refuses a request timeout shorter than the headers timeout, and a body budget no full body fits in', () => {
    expect(() => readConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }, '/r')).toThrow(new ConfigError('REQUEST_TIMEOUT_MS must be at least HEADERS_TIMEOUT_MS'));
    expect(() => readConfig({ MAX_INFLIGHT_BODY_BYTES: '100000' }, '/r')).toThrow(/MAX_INFLIGHT_BODY_BYTES must be at least 1170286/);
  });

  it('names every invalid variable at once', () => {
    expect(() => readConfig({ PORT: 'x', MAX_BUSY_MS: '0' }, '/r')).toThrow('PORT must be a number\nMAX_BUSY_MS must be >= 1');
  });
});
