// The lazily made abort signal of a request (RequestAbort) behaves as if it had existed from the
// start, and BodyAborts.fail reaches it whether or not anything asked for the signal yet.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { S3Error } from '../s3/errors.js';
import { BodyAborts, RequestAbort } from './pipeline.js';

/** The part of ServerResponse that RequestAbort and BodyAborts look at. */
class FakeResponse extends EventEmitter {
  closed = false;
  writableFinished = false;
  headersSent = false;

  /** What Node does when the response closes (finished or not). */
  close(finished: boolean): void {
    this.writableFinished = finished;
    this.closed = true;
    this.emit('close');
  }
}

function setup(): { res: FakeResponse; abort: RequestAbort } {
  const res = new FakeResponse();
  return { res, abort: new RequestAbort(res as unknown as ServerResponse) };
}

describe('RequestAbort', () => {
  it('makes no signal and adds no listener until asked', () => {
    const { res, abort } = setup();
    assert.equal(abort.aborted, false);
    assert.equal(res.listenerCount('close'), 0);
    const signal = abort.signal;
    assert.equal(signal.aborted, false);
    assert.equal(abort.signal, signal);
    assert.equal(res.listenerCount('close'), 1);
  });

  it('signal made before the client goes away → aborted at close', () => {
    const { res, abort } = setup();
    const signal = abort.signal;
    res.close(false);
    assert.equal(signal.aborted, true);
    assert.match(String((signal.reason as Error).message), /client closed/);
    assert.equal(abort.aborted, true);
  });

  it('signal asked for after the client went away → already aborted; after a finished response → not', () => {
    const gone = setup();
    gone.res.close(false);
    assert.equal(gone.abort.aborted, true);
    assert.equal(gone.abort.signal.aborted, true);
    const done = setup();
    done.res.close(true);
    assert.equal(done.abort.aborted, false);
    assert.equal(done.abort.signal.aborted, false);
    assert.equal(done.res.listenerCount('close'), 0);
  });

  it('a finished response closing → never aborted', () => {
    const { res, abort } = setup();
    const signal = abort.signal;
    res.close(true);
    assert.equal(signal.aborted, false);
    assert.equal(abort.aborted, false);
  });

  it('abort(reason) before the signal exists → the signal, when made, carries that reason; only the first abort counts', () => {
    const { res, abort } = setup();
    const reason = new S3Error('IncompleteBody');
    assert.equal(abort.abort(reason), true);
    assert.equal(abort.aborted, true);
    assert.equal(abort.abort(new S3Error('RequestTimeout')), false);
    const signal = abort.signal;
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    res.close(false);
    assert.equal(signal.reason, reason);
  });

  it('abort(reason) after the signal exists → aborts it with that reason', () => {
    const { abort } = setup();
    const signal = abort.signal;
    const reason = new S3Error('RequestTimeout');
    assert.equal(abort.abort(reason), true);
    assert.equal(signal.reason, reason);
    assert.equal(abort.abort(new S3Error('IncompleteBody')), false);
  });
});

describe('BodyAborts', () => {
  it('fail → the request body read sees the S3 error, with or without a signal made before; false when nothing is in flight, already failed, or answered', () => {
    const bodies = new BodyAborts();
    const early = setup();
    bodies.register(early.res as unknown as ServerResponse, early.abort);
    assert.equal(bodies.fail(early.res as unknown as ServerResponse, 'RequestTimeout'), true);
    assert.equal((early.abort.signal.reason as S3Error).code, 'RequestTimeout');
    assert.equal(bodies.fail(early.res as unknown as ServerResponse), false);

    const late = setup();
    bodies.register(late.res as unknown as ServerResponse, late.abort);
    const signal = late.abort.signal;
    assert.equal(bodies.fail(late.res as unknown as ServerResponse), true);
    assert.equal((signal.reason as S3Error).code, 'IncompleteBody');

    const answered = setup();
    bodies.register(answered.res as unknown as ServerResponse, answered.abort);
    answered.res.headersSent = true;
    assert.equal(bodies.fail(answered.res as unknown as ServerResponse), false);
    assert.equal(answered.abort.aborted, false);

    const gone = setup();
    bodies.register(gone.res as unknown as ServerResponse, gone.abort);
    gone.res.close(false);
    assert.equal(bodies.fail(gone.res as unknown as ServerResponse), false);

    assert.equal(bodies.fail(new FakeResponse() as unknown as ServerResponse), false);
  });
});
