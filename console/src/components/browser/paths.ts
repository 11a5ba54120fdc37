// Keys and prefixes of the object browser: a row's name within its folder, a folder's route.

/** The last segment of a key or prefix: "a/b/c.txt" → "c.txt", "a/b/" → "b/". */
export function leafName(keyOrPrefix: string, parent: string): string {
  return keyOrPrefix.startsWith(parent) ? keyOrPrefix.slice(parent.length) : keyOrPrefix;
}

/** The hash-route path of a folder in the browser: each segment percent-encoded. */
export function browsePath(bucket: string, prefix: string): string {
  return `/browse/${encodeURIComponent(bucket)}/${prefix.split('/').map(encodeURIComponent).join('/')}`;
}
