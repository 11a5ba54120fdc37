// The etcd member gate (etcd-hosts.ts): only transport failures set a member aside, and only briefly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtcdError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { EtcdMemberSkippedError, hostGate, isTransportFailure } from './etcd-hosts.js';

const refused = () => new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1');
const noLeader = () => new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('etcd member gate', () => {
  it('tells transport failures from answers and deadlines', () => {
    assert.equal(isTransportFailure(refused()), true);
    assert.equal(isTransportFailure(noLeader()), false);
    assert.equal(isTransportFailure(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED')), false);
    assert.equal(isTransportFailure(new EtcdError('etcdserver: request timed out')), false);
  });

  it('skips a member after two transport failures in a row, for openMs, then tries it again', async () => {
    const gate = hostGate({ failures: 2, openMs: 200 })('m1');
    const fail = (e: Error) => gate.execute(() => Promise.reject(e));
    await assert.rejects(fail(refused()), GRPCUnavailableError);
    assert.equal(await gate.execute(() => 'ok'), 'ok'); // a success resets the count
    await assert.rejects(fail(refused()), GRPCUnavailableError);
    await assert.rejects(fail(refused()), GRPCUnavailableError);
    let called = false;
    await assert.rejects(
      gate.execute(() => {
        called = true;
        return 'no';
      }),
      EtcdMemberSkippedError,
    );
    assert.equal(called, false, 'a skipped member is not called');
    await sleep(250);
    assert.equal(await gate.execute(() => 'back'), 'back');
  });

  it('never skips a member for deadlines or etcd answers (an election in progress)', async () => {
    const gate = hostGate({ failures: 2, openMs: 10_000 })('m1');
    for (let i = 0; i < 10; i++) {
      await assert.rejects(gate.execute(() => Promise.reject(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'))));
      await assert.rejects(gate.execute(() => Promise.reject(noLeader())));
    }
    assert.equal(await gate.execute(() => 'served'), 'served');
  });
});
