// Debian's Chromium as the browser tests drive it through playwright-core: the binary, and the
// launch flags for a headless run in a container without background traffic (scripts/test.sh
// installs the package). Used by test/integration/browser.test.ts and test/console/harness.ts.

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
