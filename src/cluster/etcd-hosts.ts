// How the etcd3 client treats one etcd member that fails (its `faultHandling.host` policy).
//
// etcd3's default is a circuit breaker that opens after 3 consecutive "recoverable" errors on a member
// and keeps it open for 5 s. Recoverable includes DEADLINE_EXCEEDED and etcd's own "no leader" /
// "leader changed" answers: while the members elect a new raft leader (1–2 s after the leader dies),
// calls to the *live* members wait for the election and run out of their deadline, every member's
// breaker opens, and the client then refuses to talk to anyone for 5 s after the election is over —
// longer than the 5 s leases it is meant to keep alive (docs/cluster.md, "When etcd's raft leader dies").
//
// This gate counts only failures that say the member itself cannot be reached (gRPC UNAVAILABLE
// without an `etcdserver:` message: connection refused, reset, no connection established). A member
// that answers, even "no leader", or that is merely slow, stays in use. After `failures` such errors in
// a row the member is skipped for `openMs` (the pool then picks another); the next call after that
// tries it again, and one more transport failure skips it again.
import type { IOptions } from 'etcd3';
import { GRPCUnavailableError } from 'etcd3';

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/** Thrown instead of calling a member that is being skipped; the pool moves on to the next member. */
export class EtcdMemberSkippedError extends Error {
  constructor(host: string, ms: number) {
    super(`etcd member ${host} unreachable: skipped for ${ms} ms`);
  }
}

/** Whether `err` says the member could not be reached at all (as opposed to an answer, or a deadline). */
export function isTransportFailure(err: unknown): boolean {
  return err instanceof GRPCUnavailableError && !err.message.includes('etcdserver:');
}

const noEvent = () => ({ dispose: () => undefined });

export interface HostGateOptions {
  /** Transport failures in a row before the member is skipped (default 2). */
  failures?: number;
  /** How long it is skipped (default 1000 ms). */
  openMs?: number;
}

/** A `faultHandling.host` factory for `new Etcd3({ … })`. */
export function hostGate(o: HostGateOptions = {}): (host: string) => HostPolicy {
  const limit = o.failures ?? 2;
  const openMs = o.openMs ?? 1000;
  return (host) => {
    let inARow = 0;
    let skipUntil = 0;
    const policy = {
      onSuccess: noEvent,
      onFailure: noEvent,
      async execute<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
        if (Date.now() < skipUntil) throw new EtcdMemberSkippedError(host, openMs);
        try {
          const value = await fn({ signal: new AbortController().signal });
          inARow = 0;
          return value;
        } catch (err) {
          if (isTransportFailure(err) && ++inARow >= limit) skipUntil = Date.now() + openMs;
          throw err;
        }
      },
    };
    return policy as unknown as HostPolicy;
  };
}
