import { type ItemDiagnostics, type JsonValue, Stats } from '@tickwork/core';
import type { ClusterThreadDictMirror } from './clusterThreadDictMirror.js';
import { shardSchedulerId } from './shardLeaseJob.js';
import type { ShardLeases } from './shardLeases.js';
import type { ValueStorePublisher } from './valueStorePublisher.js';

/**
 * The per-shard items and the polling and publishing detail of a
 * `ClusterThreadDict`'s diagnostics: each shard's local poller stats (reads
 * on this node) and lease counters, this node's reads since start, what it
 * published and how long a flush took (p50/p99/max), what it received.
 * @internal
 */
export function clusterDiagnostics<V>(
  leases: ShardLeases<V>,
  publisher: ValueStorePublisher<V>,
  mirror: ClusterThreadDictMirror<V>,
): { items: ItemDiagnostics[]; detail: { readonly [key: string]: JsonValue } } {
  const empty = new Stats().snapshot();
  let polls = 0;
  const items = leases.info().map((info) => {
    const lease = leases.shards[info.shard]!;
    const stats = lease.dict?.stats() ?? empty;
    polls += lease.polls + stats.count;
    return { name: shardSchedulerId(info.shard), stats, detail: { ...info } };
  });
  const flush = publisher.stats.snapshot();
  return {
    items,
    detail: {
      held: leases.heldShards(),
      keys: mirror.entries.size,
      polls,
      publish: {
        ...publisher.counters,
        pending: mirror.pending,
        p50Ms: flush.duration.p50,
        p99Ms: flush.duration.p99,
        maxMs: flush.duration.max,
      },
      received: mirror.received,
    },
  };
}
