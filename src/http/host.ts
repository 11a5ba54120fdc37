// Virtual-hosted-style addressing: the bucket is the part of Host before one of the configured domains.

/** The bucket named by the Host header, or undefined for path-style requests. */
export function bucketFromHost(hostHeader: string | undefined, domains: readonly string[]): string | undefined {
  if (!hostHeader || domains.length === 0) return undefined;
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // IPv6 literal: never virtual-hosted
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  host = host.replace(/\.$/, '');
  for (const domain of domains) {
    if (host.length > domain.length + 1 && host.endsWith('.' + domain)) {
      return host.slice(0, host.length - domain.length - 1);
    }
  }
  return undefined;
}

/** Splits a raw request target into path and query (at the first '?'); never normalises the path. */
export function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}
