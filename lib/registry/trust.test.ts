import { describe, expect, it } from 'vitest';
import { UnpinnedError } from './errors.ts';
import { decideTrust, DEFAULT_MAX_VERSION_BYTES, getLocationKind } from './trust.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('deciding what a load may trust', () => {
  it('classifies locations by scheme', () => {
    expect(['model-registry', '/app/model-registry', 'https://models.example.com/r', 'http://127.0.0.1:8000/', 'oci://ghcr.io/owner/models', 'OCI://ghcr.io/x'].map(getLocationKind)).toEqual([
      'directory',
      'directory',
      'http',
      'http',
      'oci',
      'oci',
    ]);
  });

  it('serves the image’s own directory unpinned, with the default byte cap', () => {
    expect(decideTrust('/app/model-registry', 'telco-churn', 'production', {})).toEqual({ kind: 'directory', crossOriginRedirects: 'refuse', maxBytes: DEFAULT_MAX_VERSION_BYTES });
  });

  it('refuses unpinned remote content, saying how to find the pin', () => {
    expect(() => decideTrust('oci://ghcr.io/owner/models', 'telco-churn', '1.1.0', {})).toThrow(UnpinnedError);
    expect(() => decideTrust('oci://ghcr.io/owner/models', 'telco-churn', '1.1.0', {})).toThrow(
      'oci://ghcr.io/owner/models: is a remote registry and nothing pins what it serves for telco-churn 1.1.0; refused. To serve it, pin the model digest ' +
        '(npm run registry -- resolve 1.1.0 --registry oci://ghcr.io/owner/models) or the OCI manifest digest (oras manifest fetch --descriptor ghcr.io/owner/models/telco-churn:1.1.0)',
    );
    expect(() => decideTrust('https://models.example.com/registry/', 'telco-churn', 'production', {})).toThrow(
      'pin the model digest (npm run registry -- resolve production --registry https://models.example.com/registry/)',
    );
  });

  it('serves pinned remote content, following redirects to other origins since the pin checks what arrives', () => {
    expect(decideTrust('oci://ghcr.io/owner/models', 'telco-churn', '1.1.0', { ociDigest: DIGEST }, { maxBytes: 1024 })).toEqual({ kind: 'oci', crossOriginRedirects: 'follow', maxBytes: 1024 });
    expect(decideTrust('https://models.example.com/', 'telco-churn', '1.1.0', { digest: DIGEST }).crossOriginRedirects).toBe('follow');
  });

  it('refuses an OCI manifest digest for a registry that has no OCI manifests', () => {
    expect(() => decideTrust('https://models.example.com/', 'telco-churn', '1.1.0', { ociDigest: DIGEST })).toThrow('an OCI manifest digest pins oci:// registries only');
  });
});
