import type { Logger } from '@tickwork/core';
import { Redis } from 'ioredis';
import { quitRedis, type RedisConnectionOptions } from './redisConnection.js';
import { CLAIM_SCRIPT, LAYOUT_SCRIPT, PUBLISH_SCRIPT } from './valueStoreScripts.js';

/** What the value store tells its owner. @internal */
export interface ValueStoreHandlers {
  /** A values message from another node (see `PUBLISH_SCRIPT`). */
  onValues(data: unknown): void;
  /** A lease claimed by a node (this one included). */
  onLease(shard: number, slot: number, node: string): void;
  /** The command connection is (again) ready; `first` on the first connect. */
  onCommandReady(first: boolean): void;
  /** The subscriber is (again) subscribed; `first` on the first subscription. */
  onSubscribed(first: boolean): void;
}

/** Outcome of one publish call: 0-based indexes of the batch. @internal */
export interface PublishOutcome {
  /** Refreshes whose base sample was not stored any more: send the full value. */
  readonly redo: number[];
  /** Entries not newer than the stored sample. */
  readonly rejected: number[];
}

type ScriptClient = Redis & {
  tickworkPublish(...args: (string | number)[]): Promise<[number[], number[]]>;
  tickworkClaim(...args: (string | number)[]): Promise<number | string>;
  tickworkLayout(...args: (string | number)[]): Promise<number | string>;
};

/**
 * The Redis side of `ClusterThreadDict` values and leases: one command
 * connection (the two Lua scripts, MGET) and one subscriber connection (the
 * values and lease channels). ioredis reconnects both and resubscribes;
 * `defineCommand` reloads the scripts after NOSCRIPT, so an emptied Redis
 * needs nothing more than what the owner does on `onCommandReady`.
 * @internal
 */
export class ValueStore {
  /** Prefix of every key and channel: `<bull prefix>:<queue>`. */
  readonly base: string;
  private readonly command: ScriptClient;
  private readonly subscriber: Redis;
  private readonly valuesChannel: string;
  private readonly leaseChannel: string;
  private readonly valuePrefix: string;
  private readonly nodeId: string;
  private readonly handlers: ValueStoreHandlers;
  private readonly logger: Logger;
  private commandReadyOnce = false;
  private subscribedOnce = false;
  private closed = false;

  /**
   * @param connection - ioredis options (two connections are opened from them)
   * @param base - key prefix, `<bull prefix>:<queue name>`
   */
  constructor(
    connection: RedisConnectionOptions,
    base: string,
    nodeId: string,
    handlers: ValueStoreHandlers,
    logger: Logger,
  ) {
    this.base = base;
    this.nodeId = nodeId;
    this.handlers = handlers;
    this.logger = logger;
    this.valuesChannel = `${base}:values`;
    this.leaseChannel = `${base}:leases`;
    this.valuePrefix = `${base}:v:`;
    // Few retries: a flush during an outage should fail fast and be redone
    // after the reconnect, not pile up in the offline queue.
    this.command = new Redis({ ...connection, maxRetriesPerRequest: 2 }) as ScriptClient;
    this.command.defineCommand('tickworkPublish', { lua: PUBLISH_SCRIPT, numberOfKeys: 1 });
    this.command.defineCommand('tickworkClaim', { lua: CLAIM_SCRIPT, numberOfKeys: 1 });
    this.command.defineCommand('tickworkLayout', { lua: LAYOUT_SCRIPT, numberOfKeys: 1 });
    this.command.on('error', (error) => this.logError('command', error));
    this.command.on('ready', () => {
      const first = !this.commandReadyOnce;
      this.commandReadyOnce = true;
      this.handlers.onCommandReady(first);
    });
    this.subscriber = new Redis({ ...connection, maxRetriesPerRequest: null });
    this.subscriber.on('error', (error) => this.logError('subscriber', error));
    this.subscriber.on('message', (channel: string, message: string) =>
      this.onMessage(channel, message),
    );
    this.subscriber.on('ready', () => {
      if (this.subscribedOnce) void this.afterResubscribe();
    });
    this.subscriber.subscribe(this.valuesChannel, this.leaseChannel).then(
      () => {
        this.subscribedOnce = true;
        this.handlers.onSubscribed(true);
      },
      (error: unknown) => this.logError('subscribe', error),
    );
  }

  /** Whether the command connection is up (a flush is worth trying). */
  get connected(): boolean {
    return this.command.status === 'ready';
  }

  /** The Redis key holding the value of the key whose JSON is `keyJson`. */
  valueKey(keyJson: string): string {
    return this.valuePrefix + keyJson;
  }

  /**
   * Runs the publish script over one batch: `records` as the script reads
   * them, `firstKeyJson` any key of the batch (it routes the call),
   * `confirmations` a JSON fragment appended to the message (see `PUBLISH_SCRIPT`).
   */
  async publish(
    records: string,
    firstKeyJson: string,
    confirmations: string,
  ): Promise<PublishOutcome> {
    const [redo, rejected] = await this.command.tickworkPublish(
      this.valueKey(firstKeyJson),
      this.valuesChannel,
      this.nodeId,
      confirmations,
      this.valuePrefix,
      records,
    );
    return { redo: redo.map((i) => i - 1), rejected: rejected.map((i) => i - 1) };
  }

  /** The stored `<time>|<json>` of each key, by key JSON (null when absent). */
  fetch(keysJson: readonly string[]): Promise<(string | null)[]> {
    return this.command.mget(keysJson.map((keyJson) => this.valuePrefix + keyJson));
  }

  /**
   * Claims `shard`'s lease for `slot`: resolves `true`, or the owner record
   * (`<slot>|<node>`) of a newer slot.
   */
  async claim(shard: number, slot: number, ttlMs: number): Promise<true | string> {
    const result = await this.command.tickworkClaim(
      this.ownerKey(shard),
      slot,
      this.nodeId,
      Math.max(1, Math.ceil(ttlMs)),
      this.leaseChannel,
      shard,
    );
    return result === 1 ? true : String(result);
  }

  /**
   * Records `layout` as this dict's for `ttlMs` (renewing it) unless another
   * node's differs: resolves null when they agree, else the stored layout.
   */
  async agreeLayout(layout: string, ttlMs: number): Promise<string | null> {
    const result = await this.command.tickworkLayout(`${this.base}:layout`, layout, ttlMs);
    return result === 1 ? null : String(result);
  }

  /** The owner records (`<slot>|<node>` or null) of shards 0..count-1. */
  owners(count: number): Promise<(string | null)[]> {
    const keys: string[] = [];
    for (let shard = 0; shard < count; shard++) keys.push(this.ownerKey(shard));
    return this.command.mget(keys);
  }

  /** Closes both connections (pending commands are flushed first when connected). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([quitRedis(this.command), quitRedis(this.subscriber)]);
  }

  private ownerKey(shard: number): string {
    return `${this.base}:lease:${shard}`;
  }

  /**
   * ioredis emits 'ready' and then, in the same turn, sends the SUBSCRIBE of
   * the lost connection; a PING sent a microtask later queues behind it and
   * answers once the subscription is back, so the resync that follows misses
   * no message.
   */
  private async afterResubscribe(): Promise<void> {
    await Promise.resolve();
    try {
      await this.subscriber.ping();
    } catch {
      return; // disconnected again: the next 'ready' tries again
    }
    if (!this.closed) this.handlers.onSubscribed(false);
  }

  private onMessage(channel: string, message: string): void {
    try {
      if (channel === this.valuesChannel) {
        const cut = message.indexOf('\n');
        // Our own batches were applied locally before they were sent.
        if (cut < 0 || message.slice(0, cut) === this.nodeId) return;
        this.handlers.onValues(JSON.parse(message.slice(cut + 1)));
      } else if (channel === this.leaseChannel) {
        const [shard, slot, ...node] = message.split('|');
        this.handlers.onLease(Number(shard), Number(slot), node.join('|'));
      }
    } catch (error) {
      this.logger.warn({ channel, error }, 'ClusterThreadDict: bad message ignored');
    }
  }

  private logError(connection: string, error: unknown): void {
    if (this.closed) return;
    this.logger.warn({ connection, error }, 'ClusterThreadDict: redis');
  }
}
