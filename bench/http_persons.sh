#!/usr/bin/env bash
# Issue 5's benchmark: authenticated, authorized, audited GET /v1/persons/{reg}
# with wrk on loopback, against a registry of PERSONS persons, beside the
# same server's GET /healthz (the ceiling) in the same run.
#
# Each read is a real one: an agent's session checked, the policy decided
# (scope, purpose, marks, budgets), the person found by blind index and
# decrypted with their employments, and an audit entry made durable (group
# commit) before the answer. The registrations read are drawn at random
# from the whole registry. The bench's agent gets budgets large enough for
# the run (a policy file, as a fund would give a batch principal); every
# other rule applies. A 10 s warm-up of the same reads comes first, not
# counted. Afterwards the audit log must have grown by at least
# the number of reads answered.
#
# usage: bash bench/http_persons.sh [PERSONS] [SECONDS] [CONNECTIONS] [THREADS] [WORKDIR]
#        defaults: 4000000 30 32 (one per core) /tmp/amana-bench-http
# On SQLite, amanad's reads of unmarked persons do not wait in their thread
# (a response waits for its audit entry off the thread), so one server
# thread per core served them best: more only take turns on the cores with
# wrk's (docs/BENCHMARKS.md).
# The registry in WORKDIR is made once (amana gen, PERSONS/40 employers,
# one month) and kept for later runs. Not run in CI. It prints a Markdown
# report for docs/BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-4000000}
seconds=${2:-30}
conns=${3:-32}
cores=$(nproc)
threads=${4:-$((cores > 256 ? 256 : cores))}
work=${5:-/tmp/amana-bench-http}
command -v wrk >/dev/null || { echo "http_persons: needs wrk (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "http_persons: needs curl" >&2; exit 2; }
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release cli/amana http/amanad >/dev/null
amana=$PWD/build-release/cli/amana
amanad=$PWD/build-release/http/amanad
mkdir -p "$work"
export AMANA_HOME=$work/reg AMANA_KEY_FILE=$work/kek
if [ ! -f "$work/reg.done" ]; then
  rm -rf "$work/reg" "$work/kek" "$work/files"
  "$amana" init >/dev/null
  echo "generating $persons persons (once)..." >&2
  /usr/bin/time -f "%e" -o "$work/gen.time" "$amana" gen --employers $((persons / 40)) --persons "$persons" \
    --months 1 --seed 5 -o "$work/files" >/dev/null
  rm -rf "$work/files"
  touch "$work/reg.done"
fi
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

login=bench.agent.$(date +%s)
echo "a long enough bench password" > "$work/pw"
secret=$("$amana" account add --role agent --login "$login" --password-file "$work/pw" --json |
  sed -n 's/.*"totp_secret":"\([A-Z2-7]*\)".*/\1/p')
[ -n "$secret" ] || { echo "http_persons: no account" >&2; exit 1; }
cat > "$work/policy" <<TXT
# the bench's agent reads more persons in a minute than a fund's agent in a year
agent.persons_per_hour = 1000000
agent.persons_per_day = 1000000
TXT
"$amanad" --listen 127.0.0.1:0 --threads "$threads" --per-ip 256 --policy "$work/policy" > "$work/amanad.out" 2> "$work/amanad.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/amanad.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/amanad.out")
[ -n "$port" ] || { echo "http_persons: amanad did not start: $(cat "$work/amanad.err")" >&2; exit 1; }
base=http://127.0.0.1:$port
code=$(python3 - "$secret" <<'PY'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1])
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
)
token=$(curl -s -X POST -d "{\"login\":\"$login\",\"password\":\"a long enough bench password\",\"totp\":\"$code\"}" \
  "$base/v1/sessions" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
[ ${#token} -eq 64 ] || { echo "http_persons: no session token" >&2; exit 1; }

# A random registration of the registry per request (serials 1..PERSONS;
# the check digit as core/ids.c makes it).
cat > "$work/persons.lua" <<LUA
local n = $persons
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) math.randomseed(os.time() * 100 + id) end
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["X-Purpose"] = "bench case 1"
local function reg(serial)
  local fe = 10000000 + serial
  local s = 0
  for k = 2, 8 do
    local d = math.floor(fe / 10 ^ (8 - k)) % 10
    s = s + ((k % 2 == 0) and 2 or 1) * d
  end
  return string.format("%d%d", fe, (10 - s % 10) % 10)
end
request = function() return wrk.format("GET", "/v1/persons/" .. reg(math.random(1, n))) end
LUA

size() { "$amana" audit sth --json | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
run() { # route-label, wrk args...: one line of the table
  local label=$1; shift
  local out rate p50 p99 errs reqs
  out=$(wrk -t 2 -c "$conns" -d "${seconds}s" --latency "$@")
  rate=$(awk '/^Requests\/sec/ { print $2 }' <<< "$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<< "$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<< "$out")
  reqs=$(awk '/requests in/ { print $1 }' <<< "$out")
  errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<< "$out")
  echo "| $label | $reqs | **$rate** | $p50 | $p99 | $errs |"
  echo "$reqs" > "$work/last.reqs"
  echo "$errs" > "$work/last.errs"
}

{
echo "### amanad: audited person reads, $persons persons ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB,"
echo "$(uname -sr), SQLite registry, release build; amanad --threads $threads, wrk -t 2 -c $conns, ${seconds} s per"
echo "route, on the same machine."
echo
echo "| route | requests | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|"
run "GET /healthz (the ceiling)" "$base/healthz"
# warm-up, not counted: the registry's pages into the page cache (a server
# that just started, or whose cache something else evicted, reads them from
# disk first: seconds of stalls)
wrk -t 2 -c "$conns" -d 10s -s "$work/persons.lua" "$base" > /dev/null
before=$(size)
run "GET /v1/persons/{reg}: agent, purpose, random person, audited" -s "$work/persons.lua" "$base"
after=$(size)
reads=$(cat "$work/last.reqs")
echo
echo "Audit log: $before entries before the reads, $after after (+$((after - before)) for $reads reads answered)."
echo "amanad memory at the end: $(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status") KiB anonymous (heap, stacks),"
echo "$(awk '/^RssFile/ { print $2 }' "/proc/$pid/status") KiB of the registry's file mapped (page cache, counted once per worker's mapping)."
}
[ "$(cat "$work/last.errs")" -eq 0 ] || { echo "http_persons: errors" >&2; exit 1; }
[ $((after - before)) -ge "$reads" ] || { echo "http_persons: fewer audit entries than reads" >&2; exit 1; }
