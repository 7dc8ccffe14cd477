import { describe, expect, it } from 'vitest';
import { UnpinnedError } from './errors.ts';
import { decideTrust, DEFAULT_MAX_VERSION_BYTES, getLocationKind } from './trust.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('deciding what a load may trust', () => {
  it('classifies locations by scheme', () => {
    expect(['model-registry', '/app/model-registry', 'https://models.example.com/r', 'http://127.0.0.1:8000/'].map(getLocationKind)).toEqual(['directory', 'directory', 'http', 'http']);
  });

  it('serves the image’s own directory unpinned, with the default byte cap', () => {
    expect(decideTrust('/app/model-registry', 'telco-churn', 'production', {})).toEqual({ kind: 'directory', crossOriginRedirects: 'refuse', maxBytes: DEFAULT_MAX_VERSION_BYTES });
  });

  it('refuses unpinned remote content, saying how to find the pin', () => {
    expect(() => decideTrust('https://models.example.com/registry/', 'telco-churn', 'production', {})).toThrow(UnpinnedError);
    expect(() => decideTrust('https://models.example.com/registry/', 'telco-churn', 'production', {})).toThrow(
      'https://models.example.com/registry/: is a remote registry and nothing pins what it serves for telco-churn production; refused. ' +
        'To serve it, pin the model digest (npm run registry -- resolve production --registry https://models.example.com/registry/)',
    );
  });

  it('serves pinned remote content, following redirects to other origins since the pin checks what arrives', () => {
    expect(decideTrust('https://models.example.com/', 'telco-churn', '1.1.0', { digest: DIGEST }, { maxBytes: 1024 })).toEqual({ kind: 'http', crossOriginRedirects: 'follow', maxBytes: 1024 });
  });

  it('refuses an OCI manifest digest for a registry that has no OCI manifests', () => {
    expect(() => decideTrust('https://models.example.com/', 'telco-churn', '1.1.0', { ociDigest: DIGEST })).toThrow('an OCI manifest digest pins oci:// registries only');
  });
});
