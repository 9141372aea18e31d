#!/usr/bin/env bash
# amanad under load for minutes (issue 5's soak test; not run in CI): a
# release build serving a fresh registry with one citizen account, driven
# by wrk in rounds of ROUND seconds on GET /healthz and on the authenticated
# GET /v1/me; after each round, the server's resident memory and the errors
# wrk saw. It fails (exit 1) on any error, or if the memory at the end is
# more than 16 MiB above the memory after the first round.
#
# usage: bash bench/http_soak.sh [SECONDS] [CONNECTIONS]   (default 300, 32)
# It prints a Markdown table for docs/BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-300}
conns=${2:-32}
round=30
command -v wrk >/dev/null || { echo "http_soak: needs wrk (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "http_soak: needs curl" >&2; exit 2; }
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release cli/amana http/amanad >/dev/null
amana=$PWD/build-release/cli/amana
amanad=$PWD/build-release/http/amanad
work=$(mktemp -d /tmp/amana-soak-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export AMANA_HOME=$work/reg AMANA_KEY_FILE=$work/kek
"$amana" init >/dev/null
reg=$("$amana" person register --cin QS100200 --name "Soak Test" --birth 1980-01-01 --json |
  sed -n 's/.*"registration":"\([0-9]*\)".*/\1/p')
echo "a long enough soak password" > "$work/pw"
"$amana" account add --role citizen --login soak.citizen --person "$reg" --password-file "$work/pw" >/dev/null
"$amanad" --listen 127.0.0.1:0 > "$work/amanad.out" 2> "$work/amanad.err" &
pid=$!
for _ in $(seq 50); do grep -q listening "$work/amanad.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/amanad.out")
[ -n "$port" ] || { echo "http_soak: amanad did not start: $(cat "$work/amanad.err")" >&2; exit 1; }
base=http://127.0.0.1:$port
token=$(curl -s -X POST -d '{"login":"soak.citizen","password":"a long enough soak password"}' "$base/v1/sessions" |
  sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
[ ${#token} -eq 64 ] || { echo "http_soak: no session token" >&2; exit 1; }

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
echo "| round | route | requests/s | p50 | p99 | errors | amanad RSS (KiB) |"
echo "|---|---|---|---|---|---|---|"
first=
failed=0
rounds=$(( (total + round - 1) / round ))
for i in $(seq "$rounds"); do
  for route in /healthz /v1/me; do
    args=()
    [ "$route" = /v1/me ] && args=(-H "Authorization: Bearer $token")
    out=$(wrk -t 2 -c "$conns" -d "${round}s" --latency "${args[@]}" "$base$route")
    rate=$(awk '/^Requests\/sec/ { print $2 }' <<< "$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<< "$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<< "$out")
    errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<< "$out")
    kib=$(rss)
    [ -z "$first" ] && first=$kib
    echo "| $i | $route | $rate | $p50 | $p99 | $errs | $kib |"
    [ "$errs" -eq 0 ] || failed=1
  done
done
last=$(rss)
echo
echo "amanad RSS: $first KiB after the first round, $last KiB at the end ($conns connections, ${total} s)."
kill -0 "$pid" || { echo "http_soak: amanad died" >&2; exit 1; }
[ $(( last - first )) -le 16384 ] || { echo "http_soak: memory grew by $(( last - first )) KiB" >&2; failed=1; }
exit "$failed"
