import { execFileSync } from 'node:child_process';

/** Build dist/ once before the tests, so process tests run the server exactly as it ships. */
export default function setup(): void {
  execFileSync(process.execPath, ['build.ts'], { stdio: 'inherit' });
}
