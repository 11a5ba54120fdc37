#!/usr/bin/env bash
# `npm test`: installs the real S3 clients the integration tests drive (idempotent, fast when
# everything is present), builds, lints, prints the client versions, then runs unit + integration tests.
# Works as root on a fresh Debian bookworm machine and in CI (CI=true, no stdin).
# Any client that cannot be installed or run fails the suite: nothing is silently skipped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

log() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# --- (a) Debian packages -------------------------------------------------------------------
# chromium: headless browser for test/integration/browser.test.ts (driven by playwright-core with
# executablePath /usr/bin/chromium; playwright's own browser download is never used).
# fuse3 + python3-fusepy: the power-cut test's FUSE file system (test/power-cut/powercut_fs.py).
# postgresql + etcd-server: the PostgreSQL metadata store and the gateway cluster tests start
# throw-away servers of their own on free loopback ports (test/helpers/postgres.ts, etcd.ts); the
# packages' own services are not used.
DEB_PACKAGES=(awscli python3-boto3 s3cmd rclone curl python3-venv chromium fuse3 python3-fusepy postgresql etcd-server)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}
  run as root, or install them first:  sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
for bin in /usr/bin/aws /usr/bin/s3cmd /usr/bin/rclone /usr/bin/curl /usr/bin/python3 /usr/bin/chromium /usr/bin/fusermount3 /usr/bin/etcd; do
  [[ -x "$bin" ]] || die "$bin not found after installing packages"
done

# --- (b) newest boto3 in .venv -------------------------------------------------------------
# The machine's pip config points at a local package mirror; the public index is unreachable,
# hence --retries 0 --timeout 3 (fail fast instead of retrying for minutes).
VENV_PY=.venv/bin/python
if [[ ! -x "$VENV_PY" ]]; then
  log "creating .venv"
  rm -rf .venv
  /usr/bin/python3 -m venv .venv || die "cannot create .venv with /usr/bin/python3 -m venv (python3-venv installed?)"
fi
if ! "$VENV_PY" -c 'import boto3' >/dev/null 2>&1 || [[ ! -f .venv/.boto3-upgraded ]] \
   || [[ -n "$(find .venv/.boto3-upgraded -mmin +1440 2>/dev/null)" ]]; then
  # Upgrade at most once a day (and whenever boto3 is missing) to keep repeated runs fast.
  log "installing/upgrading boto3 in .venv"
  "$VENV_PY" -m pip install --retries 0 --timeout 3 -U boto3 || die "pip install -U boto3 into .venv failed"
  touch .venv/.boto3-upgraded
fi
"$VENV_PY" -c 'import boto3' || die ".venv boto3 does not import"

# --- (c) build -----------------------------------------------------------------------------
if [[ ! -d node_modules ]]; then
  log "npm ci"
  npm ci
fi
log "npm run build"
npm run --silent build || die "build failed"
log "npm run build:console"
# The web console (console/, Vite): test/console drives it in Chromium. Skipped when up to date.
npm run --silent build:console || die "console build failed"

log "npm run lint"
# Biome's lint rules (biome.jsonc) and the layer rule (scripts/check-layers.mjs): a finding fails the suite.
npm run --silent lint || die "lint failed (npm run lint)"

# --- (d) client versions -------------------------------------------------------------------
log "client versions"
pyver='import boto3, botocore; print(f"boto3 {boto3.__version__} / botocore {botocore.__version__}")'
# Prints "<label>: <first line of the command's output>"; a client that does not run fails the suite.
version() {
  local label=$1 out
  shift
  out=$("$@" 2>&1) || die "$label does not run: $* -> $out"
  printf '%s: %s\n' "$label" "${out%%$'\n'*}"
}
version "node" node --version
version "@aws-sdk/client-s3" node -p 'require("./node_modules/@aws-sdk/client-s3/package.json").version'
version "@aws-sdk/s3-request-presigner" node -p 'require("./node_modules/@aws-sdk/s3-request-presigner/package.json").version'
version "@aws-sdk/client-sts" node -p 'require("./node_modules/@aws-sdk/client-sts/package.json").version'
version "boto3 (.venv, newest)" "$VENV_PY" -c "$pyver"
version "boto3 (Debian, /usr/bin/python3)" /usr/bin/python3 -c "$pyver"
version "aws cli (/usr/bin/aws)" /usr/bin/aws --version
version "s3cmd" /usr/bin/s3cmd --version
version "rclone" /usr/bin/rclone version
version "curl" /usr/bin/curl --version
version "python3-fusepy (/usr/bin/python3)" /usr/bin/python3 -c 'import fusepy, sys; print("fusepy", getattr(fusepy, "__version__", "?"), "/ libfuse", fusepy._libfuse_path)'
# Debian's launcher script may print a shell warning on stderr before the version: stdout only.
version "chromium (/usr/bin/chromium)" sh -c '/usr/bin/chromium --version 2>/dev/null'
version "playwright-core" node -p 'require("./node_modules/playwright-core/package.json").version'

# --- (e) tests -----------------------------------------------------------------------------
log "running tests"
exec node scripts/run-tests.mjs all
