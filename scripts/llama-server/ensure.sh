#!/usr/bin/env bash
# Ensures the llama.cpp test server's environment: a minimal Debian chroot (a suite that packages
# llama.cpp-tools and python3-gguf) under /var/cache/sluice, and in it a tiny random-weight GGUF
# model written by write-model.py. Built once per machine; later runs find it and return at once.
# Prints `root=` and `model=` lines (what test/helpers/llama-server.ts reads) and how to start it.
# Everything comes from Debian's own mirror through apt; nothing is downloaded from anywhere else.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${SLUICE_LLAMA_CACHE:-/var/cache/sluice/llama-server}"
suite="${SLUICE_LLAMA_SUITE:-forky}"
mirror="${SLUICE_LLAMA_MIRROR:-http://deb.debian.org/debian}"
packages="llama.cpp-tools,python3-gguf,python3-numpy"
# The rootfs is named by what it holds, so a change of suite or packages builds a new one.
root="$cache/rootfs-$suite-$(printf '%s' "$packages" | sha256sum | cut -c1-8)"
# The model is named by the script that writes it: a new writer writes a new model.
model="/models/tiny-llama-$(sha256sum "$here/write-model.py" | cut -c1-8).gguf"

mkdir -p "$cache"
# Several test files may ask at once: one builds, the others wait for it.
exec 9>"$cache/.lock"
flock 9

if [[ ! -e "$root/.sluice-ready" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure.sh: building the llama-server chroot needs root (chroot, apt-get)" >&2
    exit 1
  fi
  if ! command -v mmdebstrap >/dev/null; then
    echo "ensure.sh: installing mmdebstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >&2; }
  fi
  echo "ensure.sh: building a $suite chroot with $packages in $root (once per machine)" >&2
  started=$(date +%s)
  # --one-file-system: an interrupted build may have left /proc or /sys mounted inside.
  rm -rf --one-file-system "$root.tmp"
  # essential + the packages (apt resolves their dependencies, no recommends); docs, man pages and
  # locales left out. Check-Valid-Until off: a testing mirror's Release may be past its date.
  mmdebstrap --variant=essential --include="$packages" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$root.tmp" "$mirror" >&2
  mv "$root.tmp" "$root"
  touch "$root/.sluice-ready"
  echo "ensure.sh: chroot built in $(($(date +%s) - started)) s, $(du -sh "$root" | cut -f1)" >&2
fi

if [[ ! -e "$root$model" ]]; then
  mkdir -p "$root/models" "$root/opt/sluice"
  cp "$here/write-model.py" "$root/opt/sluice/write-model.py"
  chroot "$root" python3 /opt/sluice/write-model.py "$model.tmp" >&2
  mv "$root$model.tmp" "$root$model"
fi

echo "root=$root"
echo "model=$model"
cat <<USAGE
# Start it (root; 127.0.0.1 only):
#   chroot $root llama-server --host 127.0.0.1 --port 8080 -m $model --ctx-size 8192 --parallel 2 [--embeddings --pooling mean]
# then: node pipelines/kg.js --base-url http://127.0.0.1:8080/v1 --model tiny < examples/news.jsonl
USAGE
