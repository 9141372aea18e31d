#!/usr/bin/env bash
# PostgreSQL import benchmark (issue 4): one month of declarations for a
# country of EMPLOYERS employers and PERSONS persons, through the real
# `amana` binary into a PostgreSQL database (a throwaway server started here,
# scripts/pg.sh), against a plain COPY of the same number of rows with no
# parsing or crypto into the same server, in the same run (bench_floor_pg).
#
# usage: bash bench/import_pg.sh [EMPLOYERS] [PERSONS] [WORKDIR]
#        defaults: 300000 4000000 /tmp/amana-bench-pg
# It prints a Markdown report for docs/BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
employers=${1:-300000}
persons=${2:-4000000}
work=${3:-/tmp/amana-bench-pg}

bash scripts/install-deps.sh
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release cli/amana bench/bench_floor_pg >/dev/null
amana=$PWD/build-release/cli/amana
floor=$PWD/build-release/bench/bench_floor_pg

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
trap pg_stop EXIT
pg_start >&2
psql -q "$AMANA_TEST_PG" -c "CREATE DATABASE registry OWNER amana_owner" -c "CREATE DATABASE floor OWNER amana_owner"
port=$AMANA_TEST_PG_PORT

rm -rf "$work"
mkdir -p "$work"
export AMANA_HOME=$work/registry AMANA_KEY_FILE=$work/kek
"$amana" init --store "postgresql://amana_owner@127.0.0.1:$port/registry" \
  --app-store "postgresql://amana_app@127.0.0.1:$port/registry" >/dev/null

timed() { # label, command...: runs it, records wall seconds and peak RSS (KiB)
  local label=$1; shift
  sync
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@" > "$work/$label.out"
}

echo "generating $employers employers, $persons persons, 2 months..." >&2
timed gen "$amana" gen --employers "$employers" --persons "$persons" --months 2 --seed 42 -o "$work/files" --json
echo "importing month 1 (every line a new hire)..." >&2
timed month1 "$amana" import "$work/files" --period 202501
echo "importing month 2 (pre-filled lists answered)..." >&2
timed month2 "$amana" import "$work/files" --period 202502
lines_of() { sed -n 's/^imported [0-9]* files\{0,1\} (\([0-9]*\) lines.*/\1/p' "$1"; }
lines1=$(lines_of "$work/month1.out")
lines2=$(lines_of "$work/month2.out")
echo "floor: $lines2 rows by COPY..." >&2
sync
read -r frows fsec frate < <("$floor" "host=127.0.0.1 port=$port user=amana_owner dbname=floor" "$lines2" 200000)

read -r gsec grss < "$work/gen.time"
read -r s1 rss1 < "$work/month1.time"
read -r s2 rss2 < "$work/month2.time"
rate1=$(awk -v l="$lines1" -v s="$s1" 'BEGIN { printf "%.0f", l / s }')
rate2=$(awk -v l="$lines2" -v s="$s2" 'BEGIN { printf "%.0f", l / s }')
ratio=$(awk -v a="$rate2" -v b="$frate" 'BEGIN { printf "%.2f", a / b }')
dbsize=$(psql -tA "$AMANA_TEST_PG" -c "SELECT pg_database_size('registry')")

cat <<TXT
### Import into PostgreSQL: $employers employers, $persons persons ($(date -u +%Y-%m-%d))

Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB,
$(uname -sr), PostgreSQL $(psql -tA "$AMANA_TEST_PG" -c "SHOW server_version") (default settings, fsync on,
same machine, loopback), libpq $(pkg-config --modversion libpq), release build; the registry runs as the
application role.

| step | lines | seconds | lines/s | peak RSS (amana) |
|---|---|---|---|---|
| gen (register + write 2 months of files) | - | $gsec | - | $((grss / 1024)) MiB |
| import month 1: every line a new hire (B04) | $lines1 | $s1 | $rate1 | $((rss1 / 1024)) MiB |
| import month 2: B02 answering pre-filled lists | $lines2 | $s2 | **$rate2** | $((rss2 / 1024)) MiB |
| floor: plain COPY, one row per line, no parsing or crypto | $frows | $fsec | **$frate** | - |

import/floor = **$ratio**; database size after both months: $(awk -v b="$dbsize" 'BEGIN { printf "%.2f", b / 1e9 }') GB.
TXT
