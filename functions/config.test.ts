import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MEMORY_LIMIT_BYTES, RESERVED_MEMORY_BYTES, readConfig } from './config.ts';

const MIB = 1024 * 1024;
const DIGEST = `sha256:${'c'.repeat(64)}`;

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

  it('logs failed requests by default, and takes all, off or a share of successful requests', () => {
    expect(readConfig({}, '/r').accessLog).toBe('errors');
    expect(readConfig({ ACCESS_LOG: 'all' }, '/r').accessLog).toBe('all');
    expect(readConfig({ ACCESS_LOG: '0.01' }, '/r').accessLog).toBe(0.01);
    expect(() => readConfig({ ACCESS_LOG: 'some' }, '/r')).toThrow(/ACCESS_LOG must be all, errors, off, or a share/);
    expect(() => readConfig({ ACCESS_LOG: '2' }, '/r')).toThrow(/ACCESS_LOG must be/);
  });

  it('names every invalid variable at once', () => {
    expect(() => readConfig({ PORT: 'x', MAX_BUSY_MS: '0' }, '/r')).toThrow('PORT must be a number\nMAX_BUSY_MS must be >= 1');
  });

  it('serves the baked registry by default, capped at 8 MiB, with the Docker config under HOME', () => {
    const config = readConfig({ HOME: '/home/nonroot' }, '/app/model-registry');
    expect(config).toMatchObject({
      registry: '/app/model-registry',
      registryPlainHttp: false,
      modelVersion: 'production',
      modelDigest: undefined,
      modelOciDigest: undefined,
      modelMaxBytes: 8 * 1024 * 1024,
      dockerConfigDir: '/home/nonroot/.docker',
    });
  });

  it('splits an OCI pin off MODEL_VERSION and reads the OCI registry settings', () => {
    const config = readConfig(
      { MODEL_REGISTRY: 'oci://127.0.0.1:5000/models', MODEL_REGISTRY_PLAIN_HTTP: 'true', MODEL_VERSION: `1.1.0@${DIGEST}`, MODEL_MAX_BYTES: '1048576', DOCKER_CONFIG: '/var/run/secrets/registry' },
      '/app/model-registry',
    );
    expect(config).toMatchObject({ registry: 'oci://127.0.0.1:5000/models', registryPlainHttp: true, modelVersion: '1.1.0', modelOciDigest: DIGEST, modelMaxBytes: 1048576, dockerConfigDir: '/var/run/secrets/registry' });
  });

  it('refuses a pinned alias, a malformed pin, credentials in a registry URL and a bad OCI location, one message per variable', () => {
    expect(() => readConfig({ MODEL_VERSION: `production@${DIGEST}`, MODEL_REGISTRY_PLAIN_HTTP: 'yes' }, 'r')).toThrow(
      'MODEL_VERSION must be a version such as 1.0.0 (optionally pinned: 1.0.0@sha256:<OCI manifest digest>) or an alias such as production\nMODEL_REGISTRY_PLAIN_HTTP must be true or false',
    );
    expect(() => readConfig({ MODEL_VERSION: '1.1.0@sha256:abc' }, 'r')).toThrow('MODEL_VERSION must be a version');
    for (const registry of ['oci://bot:ghp_secret@ghcr.io/owner/models', 'https://user:pw@models.example.com/']) {
      expect(() => readConfig({ MODEL_REGISTRY: registry }, 'r')).toThrow('MODEL_REGISTRY must not carry credentials in its URL');
      expect(() => readConfig({ MODEL_REGISTRY: registry }, 'r')).not.toThrow(/ghp_secret|pw@/);
    }
    expect(() => readConfig({ MODEL_REGISTRY: 'oci://ghcr.io/Owner/models' }, 'r')).toThrow('MODEL_REGISTRY oci://ghcr.io/Owner/models: path "Owner/models" is not a valid OCI repository path');
  });
});
