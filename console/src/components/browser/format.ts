// Human-readable figures shared by the browser and the dashboard.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(v) : v >= 100 ? v.toFixed(0) : v.toFixed(1);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}

/** An ISO or HTTP date as the user's local date and time. */
export function formatDate(d: string | number | undefined | null): string {
  if (d === undefined || d === null || d === '') return '–';
  const t = new Date(d);
  return Number.isNaN(t.getTime()) ? String(d) : t.toLocaleString();
}

/** 1234567 → "1,234,567" (the user's locale). */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString() : '–';
}

/** The last segment of a key or prefix: "a/b/c.txt" → "c.txt", "a/b/" → "b/". */
export function leafName(keyOrPrefix: string, parent: string): string {
  return keyOrPrefix.startsWith(parent) ? keyOrPrefix.slice(parent.length) : keyOrPrefix;
}

/** The hash-route path of a folder in the browser: each segment percent-encoded. */
export function browsePath(bucket: string, prefix: string): string {
  return `/browse/${encodeURIComponent(bucket)}/${prefix.split('/').map(encodeURIComponent).join('/')}`;
}
