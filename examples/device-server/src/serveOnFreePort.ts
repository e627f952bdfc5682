/**
 * The cluster mode's diagnostics endpoint: the asked port, else one of the
 * next ten.
 * @module
 */
import { type Registry, systemClock } from '@tickwork/core';
import { type DiagnosticsServer, serveDiagnostics } from '@tickwork/ops';
import type { DeviceServerCommonOptions } from './deviceServer.js';

/** Ports tried after a taken one, so processes started alike each get a dashboard. */
const PORT_TRIES = 10;

/**
 * Serves the diagnostics on `options.port`, or when it is taken, on the
 * next free one of the 10 after it: two processes started with the same
 * flags each get a dashboard.
 */
export async function serveOnFreePort(
  options: DeviceServerCommonOptions,
  registry: Registry,
): Promise<DiagnosticsServer> {
  const first = options.port ?? 9464;
  const last = first === 0 ? 0 : Math.min(65_535, first + PORT_TRIES);
  for (let port = first; ; port++) {
    try {
      return await serveDiagnostics({
        port,
        host: options.host ?? '127.0.0.1',
        registry,
        clock: systemClock,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port >= last) throw error;
    }
  }
}
