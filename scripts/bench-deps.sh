#!/usr/bin/env bash
# Installs what `npm run bench` drives, only when missing (idempotent, quiet when all is there):
#   nginx  the reference server. Debian bookworm's `nginx` package is the server binary itself and
#          is built with --with-http_dav_module (`dav_methods PUT DELETE`); nginx-light/-full/-extras
#          only add module packages on top of it. Checked with `nginx -V` after the install.
#   wrk    the load generator for GET/PUT/DELETE (the bench falls back to its Node client without it).
#   strace system calls per request (`strace -c -f -p <pids>`, bench/syscalls.ts; without it the bench
#          says so and leaves the counts out).
# dd (coreutils) measures the disk's own fdatasync'd write rate (bench/disk.ts): always there on Debian.
# The Debian package would start a system nginx on port 80; the bench runs its own nginx as a child
# process, so the install is done with service starts denied (policy-rc.d) when none is set.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench-deps.sh: ERROR: %s\n' "$*" >&2; exit 1; }

nginx_bin() {
  for p in /usr/sbin/nginx /usr/local/sbin/nginx; do [[ -x "$p" ]] && { echo "$p"; return; }; done
  command -v nginx 2>/dev/null || true
}

missing=()
NGINX=$(nginx_bin)
if [[ -z "$NGINX" ]] || ! "$NGINX" -V 2>&1 | grep -q -- '--with-http_dav_module'; then missing+=(nginx); fi
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v strace >/dev/null 2>&1 || missing+=(strace)
((${#missing[@]} == 0)) && exit 0

command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
if [[ $(id -u) -ne 0 ]]; then
  die "missing ${missing[*]}: run as root, or: sudo apt-get install -y --no-install-recommends ${missing[*]}"
fi
log "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
  trap '[[ $added_policy == 1 ]] && rm -f "$policy"' EXIT
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >&2
fi

NGINX=$(nginx_bin)
[[ -n "$NGINX" ]] || die "nginx not found after installing it"
"$NGINX" -V 2>&1 | grep -q -- '--with-http_dav_module' || die "$NGINX has no http_dav_module (dav_methods PUT DELETE)"
command -v wrk >/dev/null 2>&1 || die "wrk not found after installing it"
command -v strace >/dev/null 2>&1 || die "strace not found after installing it"
log "ready: $("$NGINX" -v 2>&1), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(strace -V 2>&1 | head -1)"
