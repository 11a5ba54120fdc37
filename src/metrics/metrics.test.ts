// The pure parts of src/metrics/: the recorder's counting, merging snapshots, quantiles, the text
// format, history samples and their ring, the cluster exchange over a fake IPC channel, and the
// Grafana dashboard naming only metrics that exist.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Worker } from 'node:cluster';
import { MetricsHub, WorkerLink } from './cluster.js';
import { METRIC_NAMES, METRICS, render } from './exposition.js';
import { History, historyInterval, sampleOf, type Reading } from './history.js';
import { MetricsRecorder } from './recorder.js';
import { emptySnapshot, LATENCY_BOUNDS, mergeSnapshots, quantile, type Snapshot } from './snapshot.js';

const BUILD = { version: '1.2.3', nodeVersion: 'v20.0.0', commit: 'abc' };

function recorded(): MetricsRecorder {
  const r = new MetricsRecorder('worker-1');
  r.request('PutObject', 200, 100, 0, 0.0004);
  r.request('PutObject', 200, 50, 0, 0.003);
  r.request('GetObject', 404, 0, 300, 0.0005); // on a bound: that bucket (le is inclusive)
  r.request('GetObject', 503, 0, 10, 99); // past the last bound: +Inf
  r.request('Unknown', 999, 0, 0, 0.01); // an odd status counts as 5xx
  return r;
}

describe('metrics recorder and snapshots', () => {
  it('request › counts by status class, bytes, latency bucket (bounds inclusive, +Inf last) and sum', () => {
    const s = recorded().snapshot(true);
    assert.deepEqual(s.ops.PutObject!.status, [0, 2, 0, 0, 0]);
    assert.equal(s.ops.PutObject!.bytesIn, 150);
    assert.equal(s.ops.PutObject!.buckets[0], 1);
    assert.equal(s.ops.PutObject!.buckets[LATENCY_BOUNDS.indexOf(0.005)], 1);
    assert.deepEqual(s.ops.GetObject!.status, [0, 0, 0, 1, 1]);
    assert.equal(s.ops.GetObject!.buckets[0], 1);
    assert.equal(s.ops.GetObject!.buckets[LATENCY_BOUNDS.length], 1);
    assert.equal(s.ops.GetObject!.bytesOut, 310);
    assert.deepEqual(s.ops.Unknown!.status, [0, 0, 0, 0, 1]);
    assert.equal(s.workers, 1);
    assert.equal(s.processes[0]!.name, 'worker-1');
    assert.equal(s.processes[0]!.pid, process.pid);
  });

  it('snapshot › a copy: later requests do not change it', () => {
    const r = recorded();
    const s = r.snapshot(true);
    r.request('PutObject', 200, 1, 0, 0.001);
    assert.deepEqual(s.ops.PutObject!.status, [0, 2, 0, 0, 0]);
  });

  it('jobs › steps add items, rounds count ok and errors and keep the last round', () => {
    const r = new MetricsRecorder('server');
    r.jobObserver.step('sweep', 3);
    r.jobObserver.step('sweep', 2);
    r.jobObserver.round('sweep', { ok: true, items: 5, endedAt: 1000, nextRun: 2000 });
    r.jobObserver.round('sweep', { ok: false, items: 0, endedAt: 3000, nextRun: 4000 });
    assert.deepEqual(r.snapshot(false).jobs.sweep, {
      runsOk: 1,
      runsFailed: 1,
      items: 5,
      steps: 2,
      lastRun: 3000,
      lastResult: 'error',
      itemsLastRun: 0,
      nextRun: 4000,
    });
  });

  it('merge › counters add up, the newest round wins, processes are listed, workers counted', () => {
    const a = recorded().snapshot(true);
    const b = recorded().snapshot(true);
    a.jobs.j = { runsOk: 1, runsFailed: 0, items: 2, steps: 1, lastRun: 10, lastResult: 'ok', itemsLastRun: 2, nextRun: 20 };
    b.jobs.j = { runsOk: 2, runsFailed: 1, items: 3, steps: 4, lastRun: 30, lastResult: 'error', itemsLastRun: 1, nextRun: 40 };
    const m = mergeSnapshots([a, b, emptySnapshot()]);
    assert.deepEqual(m.ops.PutObject!.status, [0, 4, 0, 0, 0]);
    assert.equal(m.ops.PutObject!.bytesIn, 300);
    assert.equal(
      m.ops.GetObject!.buckets.reduce((x, y) => x + y, 0),
      4,
    );
    assert.deepEqual(m.jobs.j, { runsOk: 3, runsFailed: 1, items: 5, steps: 5, lastRun: 30, lastResult: 'error', itemsLastRun: 1, nextRun: 40 });
    assert.equal(m.processes.length, 2);
    assert.equal(m.workers, 2);
  });

  it('quantile › interpolates inside the bucket as histogram_quantile; empty → undefined; +Inf → the last bound', () => {
    const b = new Array(LATENCY_BOUNDS.length + 1).fill(0);
    assert.equal(quantile(b, 0.5), undefined);
    b[1] = 10; // ten requests in (0.0005, 0.001]
    assert.equal(quantile(b, 0.5), 0.0005 + 0.0005 * 0.5);
    assert.equal(quantile(b, 1), 0.001);
    b[LATENCY_BOUNDS.length] = 90;
    assert.equal(quantile(b, 0.99), LATENCY_BOUNDS.at(-1));
  });
});

describe('metrics text format', () => {
  const snapshot = (): Snapshot => {
    const s = recorded().snapshot(true);
    s.jobs.lifecycle = { runsOk: 2, runsFailed: 0, items: 7, steps: 3, lastRun: 1_700_000_000_500, lastResult: 'ok', itemsLastRun: 7, nextRun: 0 };
    return s;
  };
  const text = render({
    snapshot: snapshot(),
    usage: [{ bucket: 'we"ird\\name', objects: 2, versions: 3, deleteMarkers: 1, bytes: 30 }],
    disk: { path: '/d', totalBytes: 100, freeBytes: 40, usedBytes: 60 },
    drives: [{ path: '/d', totalBytes: 100, freeBytes: 40, usedBytes: 60 }, undefined, { path: '/e', totalBytes: 200, freeBytes: 150, usedBytes: 50 }],
    build: BUILD,
  });
  const lines = text.split('\n');

  it('every family has HELP and TYPE once, every sample line names a family it declared', () => {
    const declared = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    assert.equal(new Set(declared).size, declared.length);
    assert.deepEqual([...declared].sort(), [...METRIC_NAMES].sort());
    for (const l of lines.filter((x) => x !== '' && !x.startsWith('#'))) {
      const name = /^[a-z0-9_]+/.exec(l)![0];
      const family = METRICS[name] ? name : name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(declared.includes(family), l);
    }
    assert.ok(text.endsWith('\n'));
  });

  it('names follow the conventions: strata_ prefix; counters _total; bytes and seconds in their unit', () => {
    for (const [name, m] of Object.entries(METRICS)) {
      assert.match(name, /^strata_[a-z0-9_]+$/);
      assert.equal(name.endsWith('_total'), m.type === 'counter', name);
      if (/bytes/.test(name)) assert.ok(name.endsWith('_bytes') || name.endsWith('_bytes_total'), name);
    }
  });

  it('requests, a cumulative histogram with +Inf = count, bytes, buckets (labels escaped), disk, jobs, build', () => {
    assert.ok(lines.includes('strata_s3_requests_total{operation="PutObject",status_class="2xx"} 2'));
    assert.ok(lines.includes('strata_s3_requests_total{operation="GetObject",status_class="4xx"} 1'));
    assert.ok(!lines.some((l) => l.startsWith('strata_s3_requests_total{operation="PutObject",status_class="4xx"}')), 'zero classes left out');
    assert.ok(lines.includes('strata_s3_request_duration_seconds_bucket{operation="PutObject",le="0.0005"} 1'));
    assert.ok(lines.includes('strata_s3_request_duration_seconds_bucket{operation="PutObject",le="0.005"} 2'));
    assert.ok(lines.includes('strata_s3_request_duration_seconds_bucket{operation="PutObject",le="+Inf"} 2'));
    assert.ok(lines.includes('strata_s3_request_duration_seconds_count{operation="PutObject"} 2'));
    assert.ok(lines.includes('strata_s3_received_bytes_total{operation="PutObject"} 150'));
    assert.ok(lines.includes('strata_bucket_objects{bucket="we\\"ird\\\\name"} 2'));
    assert.ok(lines.includes('strata_buckets 1'));
    assert.ok(lines.includes('strata_disk_free_bytes 40'));
    assert.deepEqual(
      lines.filter((l) => l.startsWith('strata_drive_free_bytes')),
      ['strata_drive_free_bytes{drive="0",path="/d"} 40', 'strata_drive_free_bytes{drive="2",path="/e"} 150'],
      'every drive read, by index (drive 1 unreadable: no sample)',
    );
    assert.ok(lines.includes('strata_job_items_total{job="lifecycle"} 7'));
    assert.ok(lines.includes('strata_job_last_run_timestamp_seconds{job="lifecycle"} 1700000000.5'));
    assert.ok(lines.includes('strata_workers 1'));
    assert.ok(lines.includes('strata_build_info{version="1.2.3",node_version="v20.0.0",commit="abc"} 1'));
  });

  it('no requests yet → families declared with no samples, still valid', () => {
    const t = render({ snapshot: emptySnapshot(), usage: [], build: BUILD });
    assert.match(t, /# TYPE strata_s3_requests_total counter\n# HELP/);
    assert.ok(!t.includes('strata_disk_free_bytes'), 'no disk figures: no disk families');
    assert.ok(!t.includes('strata_drive_free_bytes'), 'one drive: no drive family');
  });
});

describe('metrics history', () => {
  const reading = (put: number, getErr: number, at: { objects?: number } = {}): Reading => {
    const r = new MetricsRecorder('server');
    for (let i = 0; i < put; i++) r.request('PutObject', 200, 10, 0, 0.002);
    for (let i = 0; i < getErr; i++) r.request('GetObject', 404, 0, 5, 0.0004);
    return { snapshot: r.snapshot(true), objects: at.objects ?? 0, bytes: 0, freeBytes: 99 };
  };

  it('sampleOf › counts per interval (deltas), errors, bytes, percentiles of the interval; a counter that went back counts 0', () => {
    const s = sampleOf(reading(2, 1), reading(5, 4, { objects: 3 }), 1234);
    assert.deepEqual(s.requests, { PutObject: 3, GetObject: 3 });
    assert.equal(s.errors4xx, 3);
    assert.equal(s.errors5xx, 0);
    assert.equal(s.bytesIn, 30);
    assert.equal(s.bytesOut, 15);
    assert.equal(s.objects, 3);
    assert.equal(s.freeBytes, 99);
    assert.equal(s.t, 1234);
    assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99 && s.latencyMs.p99 <= 2.5);
    assert.deepEqual(sampleOf(reading(5, 0), reading(2, 0), 1).requests, {});
  });

  it('History › the first reading is the baseline, each later one a sample; the ring keeps an hour; answer() by minutes', async () => {
    let n = 0;
    const h = new History(async () => reading(n++, 0), 600_000);
    let clock = 0;
    for (let i = 0; i < 9; i++) await h.tick(() => (clock += 600_000));
    const all = h.answer(60, clock);
    assert.equal(all.intervalSeconds, 600);
    assert.equal(all.samples.length, 6, 'an hour of 10-minute samples');
    assert.ok(all.samples.every((s) => s.requests.PutObject === 1));
    assert.equal(h.answer(10, clock).samples.length, 1);
  });

  it('historyInterval › STRATA_TEST_METRICS_INTERVAL_MS when at least 50 ms, else 10 s', () => {
    assert.equal(historyInterval({}), 10_000);
    assert.equal(historyInterval({ STRATA_TEST_METRICS_INTERVAL_MS: '300' }), 300);
    assert.equal(historyInterval({ STRATA_TEST_METRICS_INTERVAL_MS: '5' }), 10_000);
  });
});

/** A cluster worker as the hub sees it, wired to a WorkerLink as the worker's `process`. */
function fakeWorker(part: () => Snapshot, opts: { answers?: boolean } = {}): { worker: Worker; link: WorkerLink; exit: () => void } {
  const toPrimary = new EventEmitter();
  const toWorker = new EventEmitter();
  let connected = true;
  const worker = Object.assign(toPrimary, {
    send: (m: unknown) => (opts.answers !== false && setImmediate(() => toWorker.emit('message', m)), true),
    isConnected: () => connected,
  }) as unknown as Worker;
  const link = new WorkerLink(part, async () => ({ objects: 4, bytes: 40 }), {
    send: (m: unknown) => setImmediate(() => toPrimary.emit('message', m)),
    on: (ev, f) => toWorker.on(ev, f),
  });
  toPrimary.emit('message', { strata: 'listening', port: 1 });
  return {
    worker,
    link,
    exit: () => {
      connected = false;
      toPrimary.emit('exit');
    },
  };
}

describe('metrics across workers (cluster IPC, fake channels)', () => {
  it('a worker asks → the primary collects every worker’s part, adds its own, answers the merged snapshot', async () => {
    const own = new MetricsRecorder('primary');
    const hub = new MetricsHub(() => own.snapshot(false));
    const a = fakeWorker(() => recorded().snapshot(true));
    const b = fakeWorker(() => recorded().snapshot(true));
    hub.attach(a.worker);
    hub.attach(b.worker);
    a.worker.emit('message', { strata: 'listening', port: 1 });
    b.worker.emit('message', { strata: 'listening', port: 1 });
    const s = await b.link.snapshot();
    assert.deepEqual(s.ops.PutObject!.status, [0, 4, 0, 0, 0]);
    assert.equal(s.workers, 2);
    assert.deepEqual(s.processes.map((p) => p.name).sort(), ['primary', 'worker-1', 'worker-1']);
    const withUsage = await hub.collect(true);
    assert.deepEqual(withUsage.usage, { objects: 4, bytes: 40 });
  });

  it('a worker that exits leaves its counters (from its last part), not its process; one that never answers is left out', async () => {
    const hub = new MetricsHub(() => emptySnapshot());
    const a = fakeWorker(() => recorded().snapshot(true));
    const mute = fakeWorker(() => recorded().snapshot(true), { answers: false });
    hub.attach(a.worker);
    hub.attach(mute.worker);
    a.worker.emit('message', { strata: 'listening', port: 1 });
    mute.worker.emit('message', { strata: 'listening', port: 1 });
    const pending = hub.collect();
    mute.exit(); // gone while collected: not waited for any more
    const first = await pending;
    assert.equal(first.snapshot.workers, 1);
    a.exit();
    const after = await hub.collect();
    assert.equal(after.snapshot.workers, 0);
    assert.equal(after.snapshot.processes.length, 0);
    assert.deepEqual(after.snapshot.ops.PutObject!.status, [0, 2, 0, 0, 0], 'the exited worker’s counts kept');
  });

  it('history asked of a primary → its ring; without one → an error answer, not a hang', async () => {
    const hub = new MetricsHub(() => emptySnapshot());
    const a = fakeWorker(() => emptySnapshot());
    hub.attach(a.worker);
    await assert.rejects(a.link.history(60), /no history yet/);
    hub.history = (minutes) => ({ intervalSeconds: 10, samples: [], minutes }) as never;
    assert.deepEqual(await a.link.history(5), { intervalSeconds: 10, samples: [], minutes: 5 });
  });
});

describe('Grafana dashboard (docs/grafana/strata-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana/strata-dashboard.json', import.meta.url), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('every expression names only metrics this server exposes (histogram series by their family)', () => {
    assert.ok(exprs.length >= 20);
    for (const e of exprs) {
      const names = e.match(/\bstrata_[a-z0-9_]+/g) ?? [];
      assert.ok(names.length > 0, e);
      for (const n of names) {
        const family = METRICS[n] ? n : n.replace(/_(bucket|sum|count)$/, '');
        assert.ok(METRICS[family], `${n} in: ${e}`);
        if (family !== n) assert.equal(METRICS[family]!.type, 'histogram', n);
      }
    }
  });

  it('every metric is on the dashboard', () => {
    const used = new Set(exprs.flatMap((e) => (e.match(/\bstrata_[a-z0-9_]+/g) ?? []).map((n) => (METRICS[n] ? n : n.replace(/_(bucket|sum|count)$/, '')))));
    assert.deepEqual(
      METRIC_NAMES.filter((n) => !used.has(n)),
      [],
    );
  });
});
