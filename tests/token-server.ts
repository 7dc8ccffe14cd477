import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A token server of Distribution's token protocol on 127.0.0.1, issuing RS256 JWTs. */
export interface TokenServer {
  /** The realm Distribution sends clients to. */
  realm: string;
  service: string;
  issuer: string;
  /** The issuer's certificate (made with openssl), Distribution's `rootcertbundle`. */
  certificate: string;
  /** Every token request: whether it carried valid credentials, and the scope asked. */
  requests: { user: string | null; scope: string }[];
  close(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * Start a token server for `users` (name → password). A request with valid Basic credentials gets
 * the actions its scope asks for; an anonymous one gets a token granting nothing (as a registry
 * does for a private repository), a wrong password a 401. The `kid` header is the RFC 7638
 * thumbprint of the certificate's key, which is how Distribution v3 finds a key in its root bundle.
 */
export async function startTokenServer({ users, service = 'registry-tests', issuer = 'registry-tests-issuer' }: { users: Record<string, string>; service?: string; issuer?: string }): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'token-server-'));
  const keyPath = join(dir, 'key.pem');
  const certificate = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certificate, '-days', '1', '-subj', `/CN=${issuer}`], { stdio: 'ignore' });
  const privateKey = createPrivateKey(await readFile(keyPath));
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { e: string; n: string };
  const kid = base64url(createHash('sha256').update(`{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`).digest());
  const requests: TokenServer['requests'] = [];

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const scope = url.searchParams.get('scope') ?? '';
    let user: string | null = null;
    const header = request.headers.authorization ?? '';
    if (header.startsWith('Basic ')) {
      const [name, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':', 2) as [string, string | undefined];
      if (users[name] === undefined || users[name] !== password) {
        requests.push({ user: `${name} (refused)`, scope });
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid credentials"}');
        return;
      }
      user = name;
    }
    requests.push({ user, scope });
    const access = user === null ? [] : scope.split(' ').filter(Boolean).map((item) => {
      const [type, name, actions] = item.split(':') as [string, string, string];
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: user ?? '', aud: url.searchParams.get('service') ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const unsigned = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }))}.${base64url(JSON.stringify(claims))}`;
    const token = `${unsigned}.${base64url(sign('sha256', Buffer.from(unsigned), privateKey))}`;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificate,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
