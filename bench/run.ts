#!/usr/bin/env node
// `npm run bench`: Strata against a reference HTTP server on this machine, same workload cells,
// alternating sides over several rounds; prints one markdown table (median, spread, ratio, target)
// and writes the same as JSON. Reference: Debian's nginx (static GET/HEAD, WebDAV PUT/DELETE), with
// as many workers as cores and, in full mode, also with one worker; or any S3 endpoint (--vs URL).
// Load: wrk (one thread) where it can, a raw-socket Node client otherwise (HEAD, mixed, multipart,
// listing). `--help` lists the options. Everything runs on 127.0.0.1 and every loop is bounded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { bulkLoad, type BulkBucket } from './bulk.js';
import type { LoadResult } from './client.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { compareFiles, compareRuns, type Comparison } from './compare.js';
import { DISK_COMMAND } from './disk.js';
import { readMemory } from './procstat.js';
import { fmtNum, median, table } from './report.js';
import { nginxBinary, startNginx, startNullServer, startStrata, strataHasWorkers, strataNodeFlags, type Running, type RunningStrata } from './servers.js';
import { sseServerArgs } from './sse.js';
import { ecSidesOf, STRATA_EC, STRATA_EC_DOWN, startEcSides } from './erasure.js';
import { bulkLoadPg, gatewayWorkers, type PgSide, pgRuns, pgSideText, postgresVersion, STRATA_PG, startPgSide } from './cluster.js';
import { versionBuckets } from './versions.js';
import { measureSyscalls, type SyscallReport, syscallTable } from './syscalls.js';
import { DISK, formatChecks, RSS_PER_PROCESS_MAX_MIB, STARTUP_MAX_MS, STRATA_1W } from './targets.js';
import { wrkAvailable } from './wrk.js';
import { parseOptions } from './options.js';
import { type Ctx, type Side, bodyOf, control, ensureBucket, HOST, KiB, load, populate, putObject, STRATA_CREDS } from './sides.js';
import { allCells, listBucket, mixedCell, perSecond, target_ } from './cells.js';
import { runCells } from './rounds.js';

// ---------------------------------------------------------------------------------------------
// Output

function machineInfo(): Record<string, string | number> {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const ver = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.error ? 'not installed' : `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
  };
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: ver(nginxBinary() ?? 'nginx', ['-v']),
    wrk: ver('wrk', ['--version']).replace(/ Copyright.*/, ''),
    filesystem: (() => {
      const r = spawnSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' });
      return r.stdout?.split('\n')[1]?.split(/\s+/)[1] ?? 'unknown';
    })(),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.compare && opts.compareTo) {
    process.stdout.write(`${compareFiles(opts.compare, opts.compareTo).text}\n`);
    return;
  }
  const startedAt = new Date();
  const tAll = performance.now();
  const haveWrk = wrkAvailable();
  if (opts.client === 'wrk' && !haveWrk) throw new Error('--client wrk: wrk is not installed (scripts/bench-deps.sh)');
  const useWrk = opts.client === 'wrk' || (opts.client === 'auto' && haveWrk);
  if (!opts.vs && !nginxBinary()) throw new Error('nginx is not installed: run `bash scripts/bench-deps.sh` (or pass --vs URL)');
  mkdirSync(opts.tmpBase, { recursive: true });
  const root = mkdtempSync(join(opts.tmpBase, 'strata-bench-'));
  const workDir = join(root, 'work');
  mkdirSync(workDir);
  const ctx: Ctx = { opts, useWrk, workDir };
  const running: Running[] = [];
  const cleanup = async () => {
    for (const r of running.splice(0).reverse()) await r.stop().catch(() => undefined);
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`mode ${opts.mode}: ${opts.rounds} round(s) of ${opts.durationS} s, load generator ${useWrk ? 'wrk + node' : 'node only'}, data in ${root}`);
    const machine = machineInfo();
    const loadAtStart = os.loadavg();

    // 1. Strata's data directory, with the listing buckets written straight into its metadata.
    const dataDir = join(root, 'strata-data');
    mkdirSync(dataDir);
    const cells = allCells(opts.vs?.kind ?? 'nginx', opts.cluster).filter(
      (c) => c.modes.includes(opts.mode) && c.set === opts.set && (!opts.only || opts.only.some((p) => c.id.startsWith(p))),
    );
    const wantsList = cells.some((c) => c.id.startsWith('list-'));
    const listBuckets: BulkBucket[] = wantsList ? opts.listSizes.map((n) => ({ name: listBucket(n), count: n })) : [];
    if (opts.mode === 'smoke' && !cells.some((c) => c.id === 'list-large')) listBuckets.splice(1);
    listBuckets.push(...versionBuckets(opts.mode, cells));
    let bulk = { objects: 0, ms: 0 };
    if (listBuckets.length > 0) {
      log(`bulk-loading ${listBuckets.map((b) => `${b.name} (${b.count} keys)`).join(', ')} into meta.db`);
      bulk = bulkLoad(dataDir, listBuckets, STRATA_CREDS.region);
      log(`bulk load: ${bulk.objects} objects in ${(bulk.ms / 1000).toFixed(1)} s`);
    }

    // 2. Startup time (with the bulk-loaded objects), then the Strata that serves the cells.
    // Asked of every Strata run: the report says how many processes served the cells.
    const hasWorkers = strataHasWorkers();
    if (opts.workers !== undefined && !hasWorkers) throw new Error('--workers: this Strata has no --workers flag (its --help does not list it)');
    const strataArgs = [...sseServerArgs(cells), ...(opts.workers !== undefined ? ['--workers', String(opts.workers)] : []), ...opts.strataArgs];
    const nodeArgs = [...opts.strataNodeArgs, ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [])];
    if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
    const startups: Array<{ listeningMs: number; readyMs: number }> = [];
    let strata: RunningStrata | undefined;
    for (let i = 0; i < opts.startups; i++) {
      const last = i === opts.startups - 1;
      const t0 = Date.now();
      const s = await startStrata({ dataDir, logFile: join(root, `strata-${i}.log`), args: strataArgs, nodeArgs: last ? nodeArgs : opts.strataNodeArgs });
      const side = { name: 'strata', kind: 's3', port: s.port, hostHeader: `${HOST}:${s.port}`, creds: STRATA_CREDS, pids: s.pids } as Side;
      let readyMs = NaN;
      for (let tries = 0; tries < 2000; tries++) {
        const res = await control(side, 'GET', listBuckets[listBuckets.length - 1]?.name ?? 'none', undefined, [
          ['list-type', '2'],
          ['max-keys', '1'],
        ]).catch(() => undefined);
        if (res && (res.status === 200 || res.status === 404)) {
          readyMs = Date.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      startups.push({ listeningMs: s.listeningMs, readyMs });
      if (last) strata = s;
      else await s.stop();
    }
    running.push(strata!);
    let emptyStartup: { listeningMs: number } | undefined;
    if (opts.mode !== 'smoke') {
      const emptyDir = join(root, 'strata-empty');
      mkdirSync(emptyDir);
      const s = await startStrata({ dataDir: emptyDir, logFile: join(root, 'strata-empty.log') });
      emptyStartup = { listeningMs: s.listeningMs };
      await s.stop();
    }
    const startupObjects = bulk.objects;
    log(
      `startup with ${startupObjects} objects: ${startups.map((s) => `${s.listeningMs} ms`).join(', ')} to "listening"` +
        (emptyStartup ? ` (empty data dir: ${emptyStartup.listeningMs} ms)` : ''),
    );

    // 3. The reference(s).
    const sides: Side[] = [{ name: 'strata', kind: 's3', port: strata!.port, hostHeader: `${HOST}:${strata!.port}`, creds: STRATA_CREDS, pids: strata!.pids }];
    let refName: string;
    let extra: string | undefined;
    if (opts.vs) {
      refName = 'reference';
      sides.push({ name: refName, kind: 's3', port: opts.vs.port, hostHeader: `${HOST}:${opts.vs.port}`, creds: opts.vs.creds, pids: () => [] });
    } else {
      refName = 'nginx';
      const cores = os.availableParallelism();
      const n = await startNginx({ dir: join(root, 'nginx'), workers: cores });
      running.push(n);
      sides.push({ name: refName, kind: 'nginx', port: n.port, hostHeader: `${HOST}:${n.port}`, pids: n.pids, nginx: n });
      if (opts.nginx1w) {
        extra = 'nginx-1w';
        const n1 = await startNginx({ dir: join(root, 'nginx-1w'), workers: 1 });
        running.push(n1);
        sides.push({ name: extra, kind: 'nginx', port: n1.port, hostHeader: `${HOST}:${n1.port}`, pids: n1.pids, nginx: n1 });
      }
    }
    // Strata with one worker, on a data directory of its own (the lock admits one server per directory).
    let strata1wNote: string | undefined;
    if (opts.strata1w && cells.some((c) => c.strata1w)) {
      if (!hasWorkers) strata1wNote = 'not run: this Strata has no --workers flag';
      else {
        const dir = join(root, 'strata-1w-data');
        mkdirSync(dir);
        const s1 = await startStrata({
          dataDir: dir,
          logFile: join(root, 'strata-1w.log'),
          args: [...strataArgs, '--workers', '1'],
          nodeArgs: opts.strataNodeArgs,
        });
        running.push(s1);
        sides.push({
          name: STRATA_1W,
          kind: 's3',
          port: s1.port,
          hostHeader: `${HOST}:${s1.port}`,
          creds: STRATA_CREDS,
          pids: s1.pids,
          runs: (c) => c.strata1w === true,
        });
      }
      if (strata1wNote) log(`strata-1w ${strata1wNote}`);
    }
    // Strata on six directories (erasure coding), and the same with a drive taken away.
    if (opts.ec && cells.some((c) => ecSidesOf(c.id) !== undefined)) {
      const [ec, down] = await startEcSides(root, strataArgs, opts.strataNodeArgs, log);
      running.push(ec!, down!);
      for (const [name, s] of [
        [STRATA_EC, ec!],
        [STRATA_EC_DOWN, down!],
      ] as const) {
        sides.push({
          name,
          kind: 's3',
          port: s.port,
          hostHeader: `${HOST}:${s.port}`,
          creds: STRATA_CREDS,
          pids: s.pids,
          runs: (c) => (name === STRATA_EC ? ecSidesOf(c.id) !== undefined : ecSidesOf(c.id) === 'ec+down'),
        });
      }
    }
    // Two gateways on PostgreSQL (one data directory, --meta), as many Node processes as the main side has.
    let pgSide: PgSide | undefined;
    let pgBulk: { objects: number; ms: number } | undefined;
    if (opts.cluster && cells.some((c) => pgRuns(c.id))) {
      const mainWorkers = opts.workers ?? (hasWorkers ? os.availableParallelism() : 1);
      const pgArgs = [...sseServerArgs(cells), ...opts.strataArgs];
      pgSide = await startPgSide(root, pgArgs, opts.strataNodeArgs, gatewayWorkers(mainWorkers), log);
      running.push(pgSide);
      const side: Side = {
        name: STRATA_PG,
        kind: 's3',
        port: pgSide.port,
        ports: pgSide.ports,
        hostHeader: `${HOST}:${pgSide.port}`,
        creds: STRATA_CREDS,
        pids: pgSide.pids,
        runs: (c) => pgRuns(c.id),
      };
      sides.push(side);
      const pgBuckets = listBuckets.filter((b) => (b.versions ?? 0) === 0);
      if (pgBuckets.length > 0) {
        log(`${STRATA_PG}: bulk-loading ${pgBuckets.map((b) => `${b.name} (${b.count} keys)`).join(', ')} into PostgreSQL (server-side copies of one PUT row)`);
        pgBulk = await bulkLoadPg(pgSide.url, pgBuckets, {
          createBucket: (b) => ensureBucket(side, b),
          putEmpty: (b, k) => putObject(side, b, k, Buffer.alloc(0)),
        });
        log(`${STRATA_PG}: bulk load: ${pgBulk.objects} objects in ${(pgBulk.ms / 1000).toFixed(1)} s`);
      }
    }
    // The disk's own fdatasync'd write rate, in a directory next to Strata's data (same file system).
    if (opts.disk && cells.some((c) => c.disk))
      sides.push({ name: DISK, kind: 'disk', port: 0, hostHeader: '', pids: () => [], runs: (c) => c.disk !== undefined });

    // 4. The client's own ceiling: the cheapest possible answer (nginx `return 204`, or a Node
    //    server that answers 204 when nginx is not there) at the cells' concurrencies.
    const nginxSide = sides.find((s) => s.name === 'nginx');
    let ceilingTarget = { name: `nginx (${os.availableParallelism()} workers) location returning 204`, port: nginxSide?.port ?? 0 };
    if (!nginxSide) {
      const ns = await startNullServer();
      running.push(ns);
      ceilingTarget = { name: 'node:http server answering 204', port: ns.port };
    }
    // Measured before and after the cells (the machine is shared: its load varies); the higher counts.
    const ceilings: Array<{ tool: string; method: string; concurrency: number; reqPerS: number; measured: number[]; clientCpuS: number[] }> = [];
    const ceilingSide: Side = { name: 'ceiling', kind: 'nginx', port: ceilingTarget.port, hostHeader: `${HOST}:${ceilingTarget.port}`, pids: () => [] };
    const ceilingConc = opts.mode === 'smoke' ? [16] : [16, 64];
    const measureCeilings = async () => {
      const note = (tool: string, method: string, c: number, r: LoadResult) => {
        let e = ceilings.find((x) => x.tool === tool && x.concurrency === c);
        if (!e) ceilings.push((e = { tool, method, concurrency: c, reqPerS: 0, measured: [], clientCpuS: [] }));
        e.measured.push(perSecond(r));
        e.clientCpuS.push(r.clientCpuS ?? NaN);
        e.reqPerS = Math.max(...e.measured);
      };
      for (const c of ceilingConc) {
        if (useWrk)
          note('wrk', 'GET', c, await load(ctx, ceilingSide, { method: 'GET', paths: ['/__null'], concurrency: c, bodySize: 0, durationS: opts.durationS }));
        note(
          'node',
          'HEAD',
          c,
          await load({ ...ctx, useWrk: false }, ceilingSide, {
            method: 'HEAD',
            paths: ['/__null'],
            concurrency: c,
            bodySize: 0,
            durationS: opts.mode === 'smoke' ? 0.5 : opts.durationS,
          }),
        );
      }
    };
    await measureCeilings();
    log(`client ceiling (${ceilingTarget.name}): ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency} ${fmtNum(c.reqPerS)} req/s`).join(', ')}`);

    // 5. Warm-up (not measured): the mixed workload once on every side, so the first measured
    //    round does not pay for V8's JIT compiling the request path, nor for cold caches.
    if (opts.mode !== 'smoke') {
      const warm = mixedCell(16, ['full', 'quick']);
      for (const side of sides.filter((x) => x.kind !== 'disk')) await warm.run(ctx, side, -1, (fn) => fn());
      log(`warm-up done (${warm.title} for ${opts.durationS} s on each side)`);
    }

    // 6. The cells: per cell, every round runs each side in turn (A, B, A, B...).
    // The peak over the run, and where it was reached: VmHWM is reset when a measurement starts,
    // so a reading taken before the next one that is higher than every earlier one grew in between
    // (warm-up, a cell's set-up).
    // Summed over Strata's processes (a cluster: primary + workers) and for its largest process.
    const peak = { sumKb: 0, sumWhere: '', oneKb: 0, oneWhere: '', processes: 0 };
    const notePeak = (where: string, u?: { sumKb: number; oneKb: number }) => {
      if (u === undefined) {
        u = { sumKb: 0, oneKb: 0 };
        const pids = strata!.pids();
        peak.processes = Math.max(peak.processes, pids.length);
        for (const p of pids) {
          const m = readMemory(p);
          if (!m) continue;
          u.sumKb += Math.max(m.hwmKb, m.rssKb);
          u.oneKb = Math.max(u.oneKb, m.hwmKb, m.rssKb);
        }
      }
      if (u.sumKb > peak.sumKb) Object.assign(peak, { sumKb: u.sumKb, sumWhere: where });
      if (u.oneKb > peak.oneKb) Object.assign(peak, { oneKb: u.oneKb, oneWhere: where });
    };
    const results = await runCells(ctx, cells, sides, refName, notePeak, log);

    if (opts.mode !== 'smoke') {
      await measureCeilings();
      log(`client ceiling again: ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency} ${fmtNum(c.measured.at(-1))} req/s`).join(', ')}`);
    }

    for (const res of results) {
      const conc = /-c(\d+)$/.exec(res.id)?.[1];
      const ceiling = ceilings.find((c) => c.tool === res.tool && String(c.concurrency) === conc)?.reqPerS;
      const rm = res.sides[refName]?.median;
      if (res.unit === 'req/s' && ceiling !== undefined && rm !== undefined && rm > 0.6 * ceiling) res.nearCeiling = true;
    }

    // 7. System calls per request, apart from the timed rounds (strace slows the servers down).
    notePeak('after the cells');
    let syscalls: SyscallReport | undefined;
    if (opts.syscalls > 0) {
      log(`system calls: strace -c -f over ${opts.syscalls} requests each of GET, HEAD, PUT 4 KiB`);
      const counted = ['strata', STRATA_1W, STRATA_PG, refName].flatMap((n) => sides.filter((x) => x.name === n && x.kind !== 'disk' && x.pids().length > 0));
      syscalls = await measureSyscalls(
        counted.map((x) => ({
          name: x.name,
          port: x.port,
          ports: x.ports,
          hostHeader: x.hostHeader,
          pids: x.pids,
          target: (method: string, key: string) => target_(x, method, key),
          put: (key: string, body: Buffer) => (x.kind === 'nginx' ? populate(ctx, x, 'bench', [key], body.length) : putObject(x, 'bench', key, body)),
        })),
        { requests: opts.syscalls, warmup: Math.min(500, opts.syscalls), concurrency: 16, workDir, body: bodyOf(4 * KiB) },
      );
      log(
        syscalls.skipped
          ? `system calls not counted: ${syscalls.skipped}`
          : `system calls: ${syscalls.counts.map((c) => `${c.side} ${c.method} ${c.perRequest}/req`).join(', ')}`,
      );
    }

    // 8. Stop Strata first: with --profile its profile is written on exit.
    await strata!.stop();
    running.splice(running.indexOf(strata!), 1);
    let profile: ProfileSummary | undefined;
    if (opts.profileDir) {
      const files = readdirSync(opts.profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(opts.profileDir!, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      if (files[0]) profile = summarizeProfile(files[0], 25);
    }
    await cleanup();

    // 9. Report.
    const loadAverage = { start: loadAtStart.map((x) => Math.round(x * 100) / 100), end: os.loadavg().map((x) => Math.round(x * 100) / 100) };
    const strataPeakMiB = peak.sumKb / 1024;
    const strataPeakOneMiB = peak.oneKb / 1024;
    const startupMedian = median(startups.map((s) => s.listeningMs));
    const readyMedian = median(startups.map((s) => s.readyMs));
    const tableText = table(results, refName, extra);
    const missed = results.filter((r) => r.met === false);
    const summary: string[] = [];
    for (const r of results) {
      if (r.met === undefined) continue;
      const got =
        r.sameRatio !== undefined
          ? `${r.sameRatio.toFixed(2)}× ${(r.target as { sameAs: string }).sameAs}${r.sameCpuRatio !== undefined ? ` (server CPU per op ${r.sameCpuRatio.toFixed(2)}×)` : ''}`
          : [`${fmtNum(r.sides.strata?.median)} ${r.unit}`, formatChecks(r.checks)].filter((x) => x !== '').join('; ');
      summary.push(`- ${r.met ? 'met' : 'MISSED'} ${r.id}: ${got} (target ${r.target!.text})${r.missedBy ? `, ${r.missedBy}` : ''}`);
    }
    const rssMet = strataPeakOneMiB < RSS_PER_PROCESS_MAX_MIB;
    summary.push(
      `- ${rssMet ? 'met' : 'MISSED'} Strata peak RSS per process over the run: ${strataPeakOneMiB.toFixed(0)} MiB, ${peak.oneWhere} (target < ${RSS_PER_PROCESS_MAX_MIB} MiB per worker); all ${peak.processes} process(es) together: ${strataPeakMiB.toFixed(0)} MiB`,
    );
    const startupMet = readyMedian < STARTUP_MAX_MS;
    summary.push(
      `- ${startupMet ? 'met' : 'MISSED'} startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answered request (target < 1 s${startupObjects < 1_000_000 ? '; the target is for 1 million objects: run the full mode' : ''})`,
    );
    const indicative =
      opts.mode !== 'full'
        ? `${opts.mode} mode: indicative only (${opts.rounds} round(s) of ${opts.durationS} s${opts.rounds === 1 ? ', no spread to judge the noise by' : ''}, fewer cells, smaller listing buckets); the full mode is the reference`
        : undefined;
    const workersText =
      opts.workers !== undefined
        ? `--workers ${opts.workers}`
        : hasWorkers
          ? 'its default workers (one per CPU)'
          : 'one process (this Strata has no --workers)';
    const header = [
      `## Strata benchmark (${opts.mode}${indicative ? ': INDICATIVE ONLY' : ''}, ${startedAt.toISOString()})`,
      '',
      ...(indicative ? [`**${indicative}.**`, ''] : []),
      `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${machine.filesystem} data dir; ${machine.nginx}; ${machine.wrk}. ` +
        `Load average (1/5/15 min) at the start ${loadAverage.start.join(' / ')}, at the end ${loadAverage.end.join(' / ')}.`,
      `Strata runs as \`node ${[...strataNodeFlags(), ...opts.strataNodeArgs].join(' ')} dist/src/main.js\` with ${workersText}` +
        `${sides.some((x) => x.name === STRATA_1W) ? `; ${STRATA_1W} = Strata with --workers 1` : strata1wNote ? `; ${STRATA_1W} ${strata1wNote}` : ''}` +
        `${pgSide ? `; ${pgSideText(pgSide)}${pgBulk ? `, listing buckets loaded in ${(pgBulk.ms / 1000).toFixed(1)} s` : ''}` : ''}.`,
      `Reference: ${opts.vs ? `S3 endpoint ${opts.vs.url} (${opts.vs.kind === 'rgw' ? 'Ceph RGW targets' : 'no targets against it'})` : `nginx with ${os.availableParallelism()} workers (one per core)${extra ? `; ${extra} = nginx with 1 worker` : ''}`}. ` +
        `${opts.rounds} round(s) × ${opts.durationS} s per cell and side, sides alternating; value = median ± half the range over rounds.` +
        `${sides.some((x) => x.kind === 'disk') ? ` ${DISK} = \`${DISK_COMMAND}\` with the cell's bytes, concurrency and syncs, in the data directory's file system.` : ''}`,
      `Client ceiling (${ceilingTarget.name}; before / after the cells): ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency}: ${c.measured.map((v) => fmtNum(v)).join(' / ')} req/s`).join('; ')}.`,
      `Startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answer (median of ${startups.length})` +
        `${emptyStartup ? `; empty data dir: ${emptyStartup.listeningMs} ms` : ''}. Bulk load: ${(bulk.ms / 1000).toFixed(1)} s. Strata peak RSS over the run: largest process ${strataPeakOneMiB.toFixed(0)} MiB (${peak.oneWhere}), all processes ${strataPeakMiB.toFixed(0)} MiB (${peak.sumWhere}).`,
      '',
    ].join('\n');
    const footnote = results.some((r) => r.nearCeiling)
      ? `\n† the reference is within 60 % of the client ceiling at that concurrency: the load generator and the server share ${machine.nproc} cores, so this figure (and the ratio's denominator) is partly bounded by the client.\n`
      : '\n';
    const syscallText = syscalls ? `\n${syscallTable(syscalls)}\n` : '';
    const text = `${header}${tableText}\n${footnote}${syscallText}\nTargets:\n${summary.join('\n')}\n`;
    process.stdout.write(`\n${text}`);
    if (profile) process.stdout.write(`\n${formatProfile(profile)}\n`);

    const json = {
      schema: 'strata-bench/1',
      mode: opts.mode,
      indicative: indicative !== undefined,
      indicativeNote: indicative,
      startedAt: startedAt.toISOString(),
      elapsedS: (performance.now() - tAll) / 1000,
      machine,
      loadAverage,
      options: {
        rounds: opts.rounds,
        durationS: opts.durationS,
        listSizes: opts.listSizes,
        client: useWrk ? 'wrk+node' : 'node',
        vs: opts.vs?.url,
        vsKind: opts.vs?.kind,
        nginxWorkers: opts.vs ? undefined : os.availableParallelism(),
        strataWorkers: opts.workers ?? (hasWorkers ? 'default' : 'no --workers flag'),
        strata1w: sides.some((x) => x.name === STRATA_1W) ? true : (strata1wNote ?? false),
        cluster: pgSide
          ? { gateways: pgSide.gateways.length, workersPerGateway: pgSide.workersPerGateway, postgres: postgresVersion(), bulkLoad: pgBulk }
          : undefined,
        disk: sides.some((x) => x.kind === 'disk') ? DISK_COMMAND : undefined,
        strataArgs,
        strataNodeFlags: strataNodeFlags(),
        strataNodeArgs: opts.strataNodeArgs,
      },
      reference: refName,
      clientCeiling: { target: ceilingTarget.name, runs: ceilings },
      startup: {
        objects: startupObjects,
        runs: startups,
        listeningMsMedian: startupMedian,
        readyMsMedian: readyMedian,
        emptyDataDirListeningMs: emptyStartup?.listeningMs,
        met: startupMet,
      },
      bulkLoad: bulk,
      strataPeakRssMiB: strataPeakMiB,
      strataPeakRssWhere: peak.sumWhere,
      strataPeakRssPerProcessMiB: strataPeakOneMiB,
      strataPeakRssPerProcessWhere: peak.oneWhere,
      strataProcesses: peak.processes,
      rssMet,
      cells: results,
      missed: missed.map((r) => r.id),
      syscalls,
      profile,
      table: tableText,
    };
    let comparison: Comparison | undefined;
    if (opts.compare) {
      comparison = compareRuns(JSON.parse(readFileSync(opts.compare, 'utf8')) as Parameters<typeof compareRuns>[0], json, [opts.compare, 'this run']);
      process.stdout.write(`\n${comparison.text}\n`);
    }
    Object.assign(json, { comparison });
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`\nJSON: ${opts.json}\n`);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
