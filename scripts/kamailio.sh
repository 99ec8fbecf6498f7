#!/usr/bin/env bash
# The bundled Kamailio without Docker (Debian packages kamailio, kamailio-websocket-modules,
# kamailio-tls-modules): start / set / get / stats / status / stop. A thin wrapper: the work is done
# by src/kamailio/cli.ts (built to dist/), the same code the test suite drives.
#   scripts/kamailio.sh start --port 5080 --users 2000
#   scripts/kamailio.sh set aor-limit 5/s aor-limit-code 429 retry-after 2
#   scripts/kamailio.sh stats
#   scripts/kamailio.sh stop
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="$root/dist/src/kamailio/cli.js"
if [[ ! -f "$cli" ]] || [[ -n "$(find "$root/src/kamailio" -name '*.ts' -newer "$cli" -print -quit)" ]]; then
  echo "kamailio.sh: building (npm run build)..." >&2
  # tsc still emits when another part of the tree has a type error; only a missing CLI is fatal.
  (cd "$root" && npm run --silent build >&2) || [[ -f "$cli" ]] || { echo "kamailio.sh: build failed" >&2; exit 1; }
fi
exec node "$cli" "$@"
