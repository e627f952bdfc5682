import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@tickwork/source', '--import', 'tsx', 'src/main.ts', ...args],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

// An end-to-end run of the real main job: real threads, real HTTP, real time.
it('runs for --duration seconds, polls and analyses, then exits 0 with every component killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-demo-test-'));
  try {
    const { code, out } = await run([
      '--duration',
      '5',
      '--port',
      '0',
      '--quiet',
      '--snapshot-dir',
      dir,
    ]);
    expect(out).toMatch(/262 attributes on 81 simulated devices/);
    expect(out).toMatch(/dashboard {2}http:\/\/127\.0\.0\.1:\d+\//);
    const polls = Number(/polls +(\d+)/.exec(out)?.[1]);
    expect(polls).toBeGreaterThan(500);
    expect(out).toMatch(/worker requests +\d+ settled: [1-9]\d* completed/);
    expect(out).toMatch(/components left +0/);
    expect(code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

it('rejects a bad flag value with a clear message and exit code 2', async () => {
  const { code, out } = await run(['--duration', 'soon']);
  expect(out).toContain('device-server: --duration must be a number >= 0.1 (got "soon")');
  expect(code).toBe(2);
});
