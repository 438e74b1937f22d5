#!/bin/sh
# Brings what the tests need that npm cannot: the scale-out tests start their own redis-server
# (Debian's package) on a free 127.0.0.1 port. Run by `npm test` (its `pretest`), so the README's
# test command passes on a fresh Debian machine with nothing installed by hand. Installs only from
# Debian's packages; anywhere else it stops and says what to install.
set -eu

fail() {
  echo "ensure-redis-server: $1" >&2
  echo "ensure-redis-server: the scale-out tests need redis-server on PATH; install it (Debian/Ubuntu: apt-get install redis-server) and run the tests again." >&2
  exit 1
}

command -v redis-server >/dev/null 2>&1 && exit 0

command -v apt-get >/dev/null 2>&1 || fail "redis-server is not installed and there is no apt-get here to install it."
if [ "$(id -u)" = 0 ]; then
  as_root=''
elif command -v sudo >/dev/null 2>&1; then
  as_root='sudo'
else
  fail "redis-server is not installed, and installing it needs root (or sudo, which is not here)."
fi

echo "ensure-redis-server: redis-server not found; installing Debian's redis-server package" >&2
$as_root apt-get update || fail "apt-get update failed."
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server || fail "apt-get install redis-server failed."
command -v redis-server >/dev/null 2>&1 || fail "redis-server is still not on PATH after installing the package."
