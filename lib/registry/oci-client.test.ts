import { describe, expect, it } from 'vitest';
import { getRepository, parseChallenge, parseOciLocation, verifyReference } from './oci-client.ts';

describe('OCI locations, references and auth challenges', () => {
  it('parses oci://host[:port]/path into the host, the origin and the repository prefix', () => {
    expect(parseOciLocation('oci://ghcr.io/owner/models')).toEqual({ host: 'ghcr.io', origin: 'https://ghcr.io', prefix: 'owner/models' });
    expect(parseOciLocation('oci://127.0.0.1:5000/', { plainHttp: true })).toEqual({ host: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000', prefix: '' });
    expect(getRepository(parseOciLocation('oci://ghcr.io/owner/models'), 'telco-churn')).toBe('owner/models/telco-churn');
    expect(getRepository(parseOciLocation('oci://127.0.0.1:5000'), 'telco-churn')).toBe('telco-churn');
  });

  it('refuses credentials in the URL, queries and repository paths OCI does not allow', () => {
    expect(() => parseOciLocation('oci://bot:ghp_secret@ghcr.io/owner/models')).toThrow('must not carry credentials');
    expect(() => parseOciLocation('oci://bot:ghp_secret@ghcr.io/owner/models')).not.toThrow(/ghp_secret/);
    expect(() => parseOciLocation('oci://ghcr.io/Owner/models')).toThrow('path "Owner/models" is not a valid OCI repository path');
    expect(() => parseOciLocation('oci://ghcr.io/models?x=1')).toThrow('must not have a query or a fragment');
  });

  it('accepts tags and sha256 digests as references, nothing else', () => {
    expect(() => verifyReference('1.1.0')).not.toThrow();
    expect(() => verifyReference(`sha256:${'0'.repeat(64)}`)).not.toThrow();
    for (const bad of ['../1.0.0', '1.0.0+build', 'sha256:abc', '']) expect(() => verifyReference(bad)).toThrow('is not a valid OCI tag or sha256 digest');
  });

  it('parses Bearer and Basic challenges, quoted or not', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:owner/models/telco-churn:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:owner/models/telco-churn:pull' },
    });
    expect(parseChallenge('Basic realm="registry \\"tests\\""')).toEqual({ scheme: 'basic', params: { realm: 'registry "tests"' } });
    expect(parseChallenge('Bearer realm=https://auth.example.com/token, service=registry')).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry' } });
  });
});
