import { join } from 'node:path';
import { z } from 'zod';
import { SMALL_BODY_RESERVE_SHARE } from './admission.ts';
import { RegistryError } from '../lib/registry/errors.ts';
import { isOciLocation, parseOciLocation } from '../lib/registry/oci-client.ts';
import { DEFAULT_MAX_VERSION_BYTES } from '../lib/registry/trust.ts';

// A version or an alias; a version may carry the OCI manifest digest that pins it (`1.1.0@sha256:<hex>`).
const VERSION_OR_ALIAS = /^(\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?|[a-z][a-z0-9-]*)$/;

const integer = (name: string, min: number, max: number) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).min(min, `${name} must be >= ${min}`).max(max, `${name} must be <= ${max}`);

const ACCESS_LOG_ERROR = 'ACCESS_LOG must be all, errors, off, or a share of successful requests to log between 0 and 1';

const configSchema = z.object({
  PORT: integer('PORT', 0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  MODEL_REGISTRY: z.string().min(1).optional(),
  MODEL_NAME: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'MODEL_NAME must be a lowercase registry name').default('telco-churn'),
  MODEL_VERSION: z
    .string()
    .regex(VERSION_OR_ALIAS, 'MODEL_VERSION must be a version such as 1.0.0 (optionally pinned: 1.0.0@sha256:<OCI manifest digest>) or an alias such as production')
    .default('production'),
  MODEL_DIGEST: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'MODEL_DIGEST must look like sha256:<64 hex digits>')
    .optional(),
  MODEL_REGISTRY_PLAIN_HTTP: z.enum(['true', 'false'], { error: 'MODEL_REGISTRY_PLAIN_HTTP must be true or false' }).default('false'),
  MODEL_MAX_BYTES: integer('MODEL_MAX_BYTES', 1024, 1024 * 1024 * 1024).default(DEFAULT_MAX_VERSION_BYTES),
  DOCKER_CONFIG: z.string().min(1).optional(),
  HOME: z.string().min(1).optional(),
  MAX_BATCH_INSTANCES: integer('MAX_BATCH_INSTANCES', 1, 100_000).default(1000),
  MAX_BODY_BYTES: integer('MAX_BODY_BYTES', 1024, 256 * 1024 * 1024).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: 'LOG_LEVEL must be debug, info, warn or error' }).default('info'),
  ACCESS_LOG: z
    .union([z.enum(['all', 'errors', 'off']), z.coerce.number().gt(0, ACCESS_LOG_ERROR).lte(1, ACCESS_LOG_ERROR)], { error: ACCESS_LOG_ERROR })
    .default('errors'),
  DRAIN_TIMEOUT_MS: integer('DRAIN_TIMEOUT_MS', 0, 600_000).default(10_000),
  HEADERS_TIMEOUT_MS: integer('HEADERS_TIMEOUT_MS', 100, 600_000).default(5_000),
  REQUEST_TIMEOUT_MS: integer('REQUEST_TIMEOUT_MS', 100, 600_000).default(10_000),
  MEMORY_LIMIT_BYTES: integer('MEMORY_LIMIT_BYTES', 64 * 1024 * 1024, 2 ** 50).optional(),
  MAX_INFLIGHT_REQUESTS: integer('MAX_INFLIGHT_REQUESTS', 1, 1_000_000).default(256),
  MAX_INFLIGHT_BODY_BYTES: integer('MAX_INFLIGHT_BODY_BYTES', 1024, 2 ** 40).optional(),
  MAX_BUSY_MS: integer('MAX_BUSY_MS', 1, 60_000).default(10),
  LISTENERS: integer('LISTENERS', 1, 64).default(8),
});

/** A rough upper bound of one customer's JSON, used to size the default body limit from the batch limit. */
const BYTES_PER_INSTANCE = 1024;
/** The memory the defaults are sized for when neither MEMORY_LIMIT_BYTES nor a cgroup limit says: the chart's default limit. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
/**
 * What the process needs besides request bodies, measured by `npm run chaos` (README, "Hostile clients"):
 * RSS after start plus the heap a burst of 1,000-customer batches grows, plus connection buffers.
 */
export const RESERVED_MEMORY_BYTES = 192 * 1024 * 1024;
/** Request bodies in flight may use at most this share of what is left (the rest is slack for the estimate). */
const BODY_SHARE = 0.5;

/** The server's settings, read once from the environment and validated. */
export interface Config {
  /** 0 picks a free port (tests); the ready log line says which. */
  port: number;
  host: string;
  /** A directory, an `http(s)://` base URL or an `oci://host[:port]/path` registry. */
  registry: string;
  /** Plain HTTP to an oci:// registry (a local one), as `oras --plain-http`. */
  registryPlainHttp: boolean;
  modelName: string;
  /** A version or an alias, without any `@sha256:` pin. */
  modelVersion: string;
  /** sha256 of the version's manifest.json (MODEL_DIGEST). */
  modelDigest: string | undefined;
  /** sha256 of the version's OCI manifest (`MODEL_VERSION=<version>@sha256:…`). */
  modelOciDigest: string | undefined;
  /** Most bytes the version's files may take together (MODEL_MAX_BYTES). */
  modelMaxBytes: number;
  /** Directory of the Docker config.json with registry credentials: DOCKER_CONFIG, else ~/.docker. */
  dockerConfigDir: string | undefined;
  maxBatchInstances: number;
  maxBodyBytes: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Which requests get a log line: `all`, `errors` (4xx, 5xx and requests slower than a second), `off`, or a
   * share of successful requests logged besides the errors.
   */
  accessLog: 'all' | 'errors' | 'off' | number;
  drainTimeoutMs: number;
  /** Time a client has to send a request's headers, and the whole request (headers and body). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** The memory the process may use, from MEMORY_LIMIT_BYTES or the container's limit. */
  memoryLimitBytes: number;
  /** Budgets of admission control (admission.ts). */
  maxInflightRequests: number;
  maxInflightBodyBytes: number;
  maxBusyMs: number;
  /** Listening sockets on the port (SO_REUSEPORT), each accepting one connection per event-loop turn. */
  listeners: number;
}

/** Raised with every invalid variable at once, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Read the configuration from environment variables. Unset variables take their defaults; the
 * registry defaults to `defaultRegistry` (the committed `model-registry/`) and the memory limit to
 * `memoryLimitBytes` (the container's, when it has one). Empty strings count as unset, as Kubernetes
 * renders optional values.
 */
export function readConfig(env: Record<string, string | undefined>, defaultRegistry: string, memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => issue.message).join('\n'));
  }
  const values = result.data;
  if (values.REQUEST_TIMEOUT_MS < values.HEADERS_TIMEOUT_MS) throw new ConfigError('REQUEST_TIMEOUT_MS must be at least HEADERS_TIMEOUT_MS');
  const maxBodyBytes = values.MAX_BODY_BYTES ?? Math.max(64 * 1024, values.MAX_BATCH_INSTANCES * BYTES_PER_INSTANCE);
  const memoryLimit = values.MEMORY_LIMIT_BYTES ?? memoryLimitBytes;
  // A body of the largest size must fit in the part of the budget large bodies may use.
  const leastBodyBudget = Math.ceil(maxBodyBytes / (1 - SMALL_BODY_RESERVE_SHARE));
  const maxInflightBodyBytes = values.MAX_INFLIGHT_BODY_BYTES ?? Math.max(leastBodyBudget, Math.floor((memoryLimit - RESERVED_MEMORY_BYTES) * BODY_SHARE));
  if (maxInflightBodyBytes < leastBodyBudget) {
    throw new ConfigError(`MAX_INFLIGHT_BODY_BYTES must be at least ${leastBodyBudget}, or no body of MAX_BODY_BYTES (${maxBodyBytes}) could ever be admitted`);
  }
  const registry = values.MODEL_REGISTRY ?? defaultRegistry;
  const plainHttp = values.MODEL_REGISTRY_PLAIN_HTTP === 'true';
  if (/^(https?|oci):\/\/[^/]*@/i.test(registry)) throw new ConfigError('MODEL_REGISTRY must not carry credentials in its URL; put them in a Docker config.json (DOCKER_CONFIG)');
  if (isOciLocation(registry)) {
    try {
      parseOciLocation(registry, { plainHttp });
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      throw new ConfigError(`MODEL_REGISTRY ${error.message}`);
    }
  }
  const [version, ociDigest] = values.MODEL_VERSION.split('@') as [string, string | undefined];
  return {
    port: values.PORT,
    host: values.HOST,
    registry,
    registryPlainHttp: plainHttp,
    modelName: values.MODEL_NAME,
    modelVersion: version,
    modelDigest: values.MODEL_DIGEST,
    modelOciDigest: ociDigest,
    modelMaxBytes: values.MODEL_MAX_BYTES,
    dockerConfigDir: values.DOCKER_CONFIG ?? (values.HOME === undefined ? undefined : join(values.HOME, '.docker')),
    maxBatchInstances: values.MAX_BATCH_INSTANCES,
    maxBodyBytes,
    logLevel: values.LOG_LEVEL,
    accessLog: values.ACCESS_LOG,
    drainTimeoutMs: values.DRAIN_TIMEOUT_MS,
    headersTimeoutMs: values.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: values.REQUEST_TIMEOUT_MS,
    memoryLimitBytes: memoryLimit,
    maxInflightRequests: values.MAX_INFLIGHT_REQUESTS,
    maxInflightBodyBytes,
    maxBusyMs: values.MAX_BUSY_MS,
    listeners: values.LISTENERS,
  };
}
