import { isDeepStrictEqual } from 'node:util';
import type { RequestId, WorkerRequest } from './workerRequest.js';

function addTo(index: Map<string, Set<WorkerRequest>>, name: string, request: WorkerRequest): void {
  let set = index.get(name);
  if (set === undefined) {
    set = new Set();
    index.set(name, set);
  }
  set.add(request);
}

/**
 * Every request a pool knows: all unsettled ones, plus the last `keep`
 * settled ones (so `after`, `waitCompleted` and `cancel` work on requests that
 * already finished, up to a bound). Indexes unsettled requests by key (for
 * `dedupe`) and by group (for `stopGroup` and `group-finished`).
 * @internal
 */
export class RequestBook {
  /** By ordinal (`n`): small-integer keys hash faster than id strings. */
  private readonly records = new Map<number, WorkerRequest>();
  private settled: number[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Set<WorkerRequest>>();
  /** The key index is only kept once `dedupe` was used: most pools never pay for it. */
  private keyIndex = false;
  private readonly byGroup = new Map<string, Set<WorkerRequest>>();
  private readonly keep: number;
  /** Requests not settled yet. */
  unsettled = 0;

  /** @param keep - settled requests remembered */
  constructor(keep: number) {
    this.keep = keep;
  }

  /** Records a new request; `joinable` ones can be found by {@link RequestBook.findDuplicate}. */
  add(request: WorkerRequest, joinable: boolean): void {
    this.records.set(request.n, request);
    this.unsettled++;
    request.joinable = joinable;
    if (joinable && this.keyIndex) addTo(this.byKey, request.key, request);
    if (request.group !== undefined) addTo(this.byGroup, request.group, request);
  }

  /** The request with `id`, or undefined when unknown or forgotten. */
  get(id: RequestId): WorkerRequest | undefined {
    const n = Number(id);
    const request = Number.isSafeInteger(n) ? this.records.get(n) : undefined;
    // '07' or '7.0' name no request, although Number() reads them as 7.
    return request !== undefined && request.id === id ? request : undefined;
  }

  /**
   * Moves a request that just settled out of the indexes. Returns true when
   * it was the last unsettled request of its group.
   */
  settle(request: WorkerRequest): boolean {
    this.unsettled--;
    if (this.keyIndex) {
      const sameKey = this.byKey.get(request.key);
      if (sameKey?.delete(request) && sameKey.size === 0) this.byKey.delete(request.key);
    }
    let groupFinished = false;
    if (request.group !== undefined) {
      const group = this.byGroup.get(request.group);
      if (group?.delete(request) && group.size === 0) {
        this.byGroup.delete(request.group);
        groupFinished = true;
      }
    }
    this.forgetOldest(request.n);
    return groupFinished;
  }

  private forgetOldest(n: number): void {
    if (this.keep === 0) {
      this.records.delete(n);
      return;
    }
    this.settled.push(n);
    if (this.settled.length - this.head > this.keep) {
      this.records.delete(this.settled[this.head]!);
      this.head++;
      // Drop the forgotten prefix now and then instead of shifting every time.
      if (this.head >= 1024 && this.head * 2 >= this.settled.length) {
        this.settled = this.settled.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** An unsettled joinable request with the same key and target and deeply equal args. */
  findDuplicate(key: string, target: string, args: unknown): WorkerRequest | undefined {
    if (!this.keyIndex) {
      this.keyIndex = true;
      for (const r of this.unsettledRequests()) if (r.joinable) addTo(this.byKey, r.key, r);
    }
    const sameKey = this.byKey.get(key);
    if (sameKey === undefined) return undefined;
    for (const r of sameKey) {
      if (r.target === target && (r.args === args || isDeepStrictEqual(r.args, args))) return r;
    }
    return undefined;
  }

  /** Unsettled requests of a group. */
  inGroup(group: string): WorkerRequest[] {
    return [...(this.byGroup.get(group) ?? [])];
  }

  /** Every unsettled request, oldest first. */
  unsettledRequests(): WorkerRequest[] {
    const out: WorkerRequest[] = [];
    for (const r of this.records.values()) {
      if (r.state === 'waiting' || r.state === 'queued' || r.state === 'running') out.push(r);
    }
    return out;
  }
}
