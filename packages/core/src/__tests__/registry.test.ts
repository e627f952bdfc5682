import { describe, expect, it } from 'vitest';
import type { ComponentDiagnostics, RegisteredComponent } from '../registry.js';
import { Registry } from '../registry.js';
import { Stats } from '../stats.js';

function fake(kind: string, name: string, idle = true) {
  const calls: string[] = [];
  const component: RegisteredComponent & { calls: string[] } = {
    kind,
    name,
    calls,
    stop: async () => {
      calls.push('stop');
      return idle;
    },
    kill: async () => {
      calls.push('kill');
    },
    diagnostics: (): ComponentDiagnostics => ({
      kind,
      name,
      state: 'running',
      stats: new Stats().snapshot(),
    }),
  };
  return component;
}

describe('Registry', () => {
  it('lists, filters by kind and ignores double registration', () => {
    const registry = new Registry();
    const a = fake('ThreadDict', 'a');
    const b = fake('CronTab', 'b');
    registry.register(a);
    registry.register(a);
    registry.register(b);
    expect(registry.list()).toEqual([a, b]);
    expect(registry.list('CronTab')).toEqual([b]);
    expect(registry.size).toBe(2);
    registry.unregister(a);
    registry.unregister(a);
    expect(registry.list()).toEqual([b]);
  });

  it('stopAll resolves true only when every component went idle', async () => {
    const registry = new Registry();
    const a = fake('X', 'a');
    const b = fake('X', 'b', false);
    registry.register(a);
    registry.register(b);
    await expect(registry.stopAll()).resolves.toBe(false);
    registry.unregister(b);
    await expect(registry.stopAll({ timeoutMs: 10 })).resolves.toBe(true);
    expect(a.calls).toEqual(['stop', 'stop']);
  });

  it('killAll kills each component, optionally of one kind', async () => {
    const registry = new Registry();
    const a = fake('X', 'a');
    const b = fake('Y', 'b');
    registry.register(a);
    registry.register(b);
    await registry.killAll({ kind: 'Y' });
    expect(b.calls).toEqual(['kill']);
    expect(a.calls).toEqual([]);
    await registry.killAll();
    expect(a.calls).toEqual(['kill']);
  });

  it('snapshot collects every component diagnostics with the time', () => {
    const registry = new Registry();
    registry.register(fake('X', 'a'));
    registry.register(fake('Y', 'b'));
    const snap = registry.snapshot(42);
    expect(snap.takenAt).toBe(42);
    expect(snap.components.map((c) => `${c.kind}/${c.name}`)).toEqual(['X/a', 'Y/b']);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('holds components weakly: a dropped one leaves by itself', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest runs with --expose-gc').toBeTypeOf('function');
    const registry = new Registry();
    const kept = fake('X', 'kept');
    registry.register(kept);
    (() => {
      for (let i = 0; i < 100; i++) registry.register(fake('X', `dropped-${i}`));
    })();
    expect(registry.size).toBe(101);
    for (let i = 0; i < 10 && registry.size > 1; i++) {
      await new Promise((r) => setImmediate(r));
      gc?.();
    }
    expect(registry.list()).toEqual([kept]);
  });
});
