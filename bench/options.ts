// The benchmark's command line (bench/run.ts): its options, their defaults per mode (full, quick,
// smoke) and the `--help` text.
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Credentials } from './sign.js';
import { SETS } from './versions.js';
import type { RefKind } from './targets.js';
import { HOST, STRATA_CREDS } from './sides.js';

export type Mode = 'full' | 'quick' | 'smoke';

// ---------------------------------------------------------------------------------------------
// Options

export interface Options {
  mode: Mode;
  rounds: number;
  durationS: number;
  listSizes: [number, number];
  startups: number;
  nginx1w: boolean;
  /** Also run Strata with `--workers 1` (the strata-1w side) on the cells that compare with it. */
  strata1w: boolean;
  /** `--workers N` for the main Strata side (undefined: its default, one worker per CPU). */
  workers?: number;
  /** Requests per system-call count (0: not measured). */
  syscalls: number;
  /** Run the disk side (dd … conv=fdatasync) on the durable large-write cells. */
  disk: boolean;
  /** Run the erasure-coded sides (six directories at EC 4+2, and the same with a drive gone) on the cells marked for them. */
  ec: boolean;
  /** Also run two gateways on PostgreSQL (the strata-pg side, cluster.ts) on the cells marked for it. */
  cluster: boolean;
  /** Compare with this earlier JSON result; with compareTo, two files and no run. */
  compare?: string;
  compareTo?: string;
  vs?: { url: string; host: string; port: number; creds: S3Credentials; listMax: number; kind: RefKind };
  only?: string[];
  /** A named set of cells run instead of the mode's default cells (see SETS). */
  set?: string;
  client: 'auto' | 'wrk' | 'node';
  json: string;
  profileDir?: string;
  strataArgs: string[];
  strataNodeArgs: string[];
  keep: boolean;
  tmpBase: string;
}

const HELP = `usage: node dist/bench/run.js [options]     (npm run bench -- [options])

modes (default: full, several minutes):
  --quick               a few minutes: 1 round of 1 s, a subset of cells, listing on 10 k / 100 k keys;
                        its figures are indicative only (the full mode is the reference)
  --smoke               a few seconds: 1 round, 3 cells, tiny counts (the test uses it with --vs)
options:
  --rounds N            rounds per cell (full: 5)
  --duration S          seconds per measurement (full: 2; wrk needs whole seconds)
  --list-sizes A,B      keys in the two listing buckets (full: 10000,1000000)
  --only ID,ID          only cells whose id starts with one of these (e.g. get-4k,head)
  --set NAME            run this named set of cells instead of the mode's default ones (sizes and
                        durations still by mode). Sets: versions (ListObjectVersions over 100 k keys
                        × 10 versions, ListObjectsV2 with 90 % delete markers, 4 KiB PUT/GET on a
                        versioned bucket, each against its unversioned twin; Strata only)
  --vs URL              reference = this S3 endpoint (path style, http) instead of nginx
  --vs-kind rgw|s3      what the endpoint is, for the targets: rgw = Ceph RGW (no cell below 1.5×,
                        4 KiB cells ≥ 5×); s3 (default) = no target against the reference
  --vs-access-key K, --vs-secret-key S, --vs-region R   its credentials (default: Strata's)
  --vs-list-max N       populate its listing buckets over HTTP up to N keys (default 10000; larger
                        buckets are skipped on the reference)
  --nginx-1w / --no-nginx-1w   also run nginx with one worker (default: on in full mode)
  --workers N           Strata's --workers for the main side (default: Strata's own, one per CPU)
  --strata-1w / --no-strata-1w   also run Strata with --workers 1 on the 4 KiB GET/HEAD/PUT cells
                        (default: on in full and quick mode; needs a Strata that has --workers)
  --syscalls N          system calls per request: strace -c -f over N requests each of GET, HEAD and
                        PUT 4 KiB, apart from the timed rounds (default 2000; smoke 200; 0 = off; with
                        --only/--set only when the list names "syscalls")
  --no-disk             leave out the disk side: the disk's own fdatasync'd write rate on the PUT
                        64 MiB and multipart cells (dd if=/dev/zero bs=1M conv=fdatasync, same bytes,
                        concurrency and syncs as the cell)
  --ec / --no-ec        also run Strata on six directories at EC 4+2 (strata-ec) and the same with a
                        drive taken away (strata-ec-1down) on the 64 MiB PUT/GET and 4 KiB GET/PUT
                        cells (default: on in full and quick mode, off with --vs)
  --cluster             also run strata-pg: a throw-away PostgreSQL and two Strata gateways on one data
                        directory with --meta <its URL>, the load alternating between them, on the 4 KiB
                        GET/HEAD/PUT (distinct keys), 64 MiB PUT/GET and listing cells; those cells then
                        use the Node client on every side (wrk talks to one port)
  --compare BASE.json   after the run, print which cells moved beyond the noise against that result
  --to NEW.json         with --compare: compare the two files and do not run anything
  --client auto|wrk|node   load generator for GET/PUT/DELETE (auto: wrk when installed)
  --json FILE           where the JSON result goes (default: <tmp>/strata-bench/last-run.json)
  --profile DIR         run Strata under node --cpu-prof, write the profile to DIR and print its top frames
  --strata-arg ARG      extra Strata argument (repeatable), e.g. --strata-arg=--log-level=warn
  --strata-node-arg ARG extra node argument for Strata (repeatable), after the flags of its own launch line
                        (dist/src/main.js: --max-semi-space-size=4), so e.g. --strata-node-arg=--max-semi-space-size=16 overrides
  --tmp DIR             where the data directories go (default: the OS temp dir)
  --keep                keep the data directories
`;

export function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string[]>();
  const bool = new Set(['--quick', '--smoke', '--nginx-1w', '--no-nginx-1w', '--strata-1w', '--no-strata-1w', '--no-disk', '--keep', '--help', '-h']);
  for (const b of ['--cluster', '--ec', '--no-ec']) bool.add(b); // --ec/--no-ec: in --help, missing from the set
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (bool.has(name)) value = 'true';
    else {
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
      value = argv[++i]!;
    }
    if (!name.startsWith('-')) throw new Error(`unexpected argument ${a}`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  const get = (n: string) => flags.get(n)?.at(-1);
  if (get('--help') ?? get('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const known = new Set([
    ...bool,
    '--rounds',
    '--duration',
    '--list-sizes',
    '--only',
    '--set',
    '--vs',
    '--vs-access-key',
    '--vs-secret-key',
    '--vs-region',
    '--vs-list-max',
    '--vs-kind',
    '--workers',
    '--syscalls',
    '--compare',
    '--to',
    '--client',
    '--json',
    '--profile',
    '--strata-arg',
    '--strata-node-arg',
    '--tmp',
  ]);
  for (const n of flags.keys()) if (!known.has(n)) throw new Error(`unknown option ${n} (see --help)`);
  const mode: Mode = get('--smoke') ? 'smoke' : get('--quick') ? 'quick' : 'full';
  const preset = {
    full: { rounds: 5, durationS: 2, listSizes: [10_000, 1_000_000] as [number, number], startups: 3, nginx1w: true, strata1w: true, syscalls: 2000 },
    quick: { rounds: 1, durationS: 1, listSizes: [10_000, 100_000] as [number, number], startups: 1, nginx1w: false, strata1w: true, syscalls: 2000 },
    smoke: { rounds: 1, durationS: 1, listSizes: [1_000, 2_000] as [number, number], startups: 1, nginx1w: false, strata1w: false, syscalls: 200 },
  }[mode];
  const num = (n: string, d: number, min: number, max: number) => {
    const v = get(n);
    if (v === undefined) return d;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${n} must be a number in [${min}, ${max}]`);
    return x;
  };
  let vs: Options['vs'];
  const vsUrl = get('--vs');
  if (vsUrl !== undefined) {
    const u = new URL(vsUrl);
    if (u.protocol !== 'http:') throw new Error('--vs: only http:// endpoints');
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('--vs: the bench only talks to 127.0.0.1');
    vs = {
      url: vsUrl,
      host: HOST,
      port: Number(u.port || 80),
      creds: {
        accessKey: get('--vs-access-key') ?? STRATA_CREDS.accessKey,
        secretKey: get('--vs-secret-key') ?? STRATA_CREDS.secretKey,
        region: get('--vs-region') ?? STRATA_CREDS.region,
      },
      listMax: num('--vs-list-max', 10_000, 0, 10_000_000),
      kind: (() => {
        const k = get('--vs-kind') ?? 's3';
        if (k !== 'rgw' && k !== 's3') throw new Error('--vs-kind: rgw or s3');
        return k;
      })(),
    };
  } else if (get('--vs-kind') !== undefined) throw new Error('--vs-kind needs --vs URL');
  if (get('--to') !== undefined && get('--compare') === undefined) throw new Error('--to needs --compare BASE.json');
  const only = get('--only')
    ?.split(',')
    .filter((s) => s !== '');
  const workers = get('--workers') === undefined ? undefined : num('--workers', 1, 1, 256);
  if (workers !== undefined && !Number.isInteger(workers)) throw new Error('--workers takes a whole number');
  const sizes = get('--list-sizes')?.split(',').map(Number);
  if (sizes && (sizes.length !== 2 || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 20_000_000))) {
    throw new Error('--list-sizes takes two positive integers');
  }
  const set = get('--set');
  if (set !== undefined && !SETS.includes(set)) throw new Error(`--set: one of ${SETS.join(', ')}`);
  const client = get('--client') ?? 'auto';
  if (client !== 'auto' && client !== 'wrk' && client !== 'node') throw new Error('--client: auto, wrk or node');
  const tmpBase = resolve(get('--tmp') ?? os.tmpdir());
  return {
    mode,
    rounds: num('--rounds', preset.rounds, 1, 100),
    durationS: num('--duration', preset.durationS, 1, 600),
    listSizes: sizes ? [sizes[0]!, sizes[1]!] : preset.listSizes,
    startups: preset.startups,
    nginx1w: vs ? false : get('--no-nginx-1w') ? false : get('--nginx-1w') ? true : preset.nginx1w,
    strata1w: workers === 1 ? false : get('--no-strata-1w') ? false : get('--strata-1w') ? true : preset.strata1w,
    workers,
    // With --only or --set, counted only when asked for by name.
    syscalls:
      get('--syscalls') === undefined && (only || set !== undefined) && !only?.includes('syscalls') ? 0 : num('--syscalls', preset.syscalls, 0, 100_000),
    disk: get('--no-disk') === undefined,
    ec: vs !== undefined || get('--no-ec') !== undefined ? false : get('--ec') !== undefined || mode !== 'smoke',
    cluster: get('--cluster') !== undefined,
    compare: get('--compare') !== undefined ? resolve(get('--compare')!) : undefined,
    compareTo: get('--to') !== undefined ? resolve(get('--to')!) : undefined,
    vs,
    only,
    set,
    client,
    json: resolve(get('--json') ?? join(tmpBase, 'strata-bench', 'last-run.json')),
    profileDir: get('--profile') !== undefined ? resolve(get('--profile')!) : undefined,
    strataArgs: flags.get('--strata-arg') ?? [],
    strataNodeArgs: flags.get('--strata-node-arg') ?? [],
    keep: get('--keep') !== undefined,
    tmpBase,
  };
}
