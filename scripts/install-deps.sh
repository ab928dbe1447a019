#!/usr/bin/env bash
# Installs what the local run and the tests need and the machine lacks: PostgreSQL, Redis, ffmpeg,
# prlimit (util-linux: the limits of publish's ffmpeg runs), wrk, Node.js with npm (the web client's
# build) and Chromium (its browser tests) from the OS packages (Debian/Ubuntu). Installs nothing
# when everything is present.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v prlimit >/dev/null || missing+=(util-linux)
command -v wrk >/dev/null || missing+=(wrk)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system-wide servers; ours run on their own ports and leave those alone.
fi

# The web client's toolchain (Vite 8) needs Node.js 20.19 or newer; Debian 12's own nodejs is 18.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "Node.js 20.19 or newer is required for the web client's build (found $(node --version)):" >&2
  echo "install it from your distribution's backports or nodejs.org's packages, then run make again." >&2
  exit 1
fi

if ! command -v go >/dev/null; then
  echo "Go 1.26 or newer is required (expected at /usr/local/go/bin)." >&2
  exit 1
fi
