#!/usr/bin/env bash
# PostgreSQL import benchmark (issue 4): one month of declarations for a
# country of EMPLOYERS employers and PERSONS persons, through the real
# `amana` binary into a PostgreSQL database (a throwaway server started here,
# scripts/pg.sh), against a plain COPY of the same number of rows with no
# parsing or crypto into the same server, in the same run (bench_floor_pg).
#
# usage: bash bench/import_pg.sh [EMPLOYERS] [PERSONS] [WORKDIR]
#        defaults: 300000 4000000 /tmp/amana-bench-pg; ROUNDS=3 in the
#        environment sets how many times month 2 and the floor are run.
# It prints a Markdown report for docs/BENCHMARKS.md on stdout.
#
# This shared virtual machine's speed moves by a quarter within minutes, and
# the import and the floor are not run at the same instant: month 2 and the
# floor are run ROUNDS times, alternated, month 2 each time on a copy of the
# server's data directory and of the registry as month 1 (and the vacuum)
# left them, the server restarted each time; the goal is judged on the
# medians (as bench/import.sh does for SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "import_pg.sh: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2; }
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
# A month passes between two imports, and the server's autovacuum has long
# gone over month 1's rows by then; here it would still be at it during
# month 2 (4 million new employments), so the owner runs it now, timed apart.
echo "VACUUM (ANALYZE) as the owner, as autovacuum would have in the month between..." >&2
timed vacuum psql -q "host=127.0.0.1 port=$port user=amana_owner dbname=registry" -c "VACUUM (ANALYZE)"
lines_of() { sed -n 's/^imported [0-9]* files\{0,1\} (\([0-9]*\) lines.*/\1/p' "$1"; }
lines1=$(lines_of "$work/month1.out")

# The state month 2 starts from, kept aside: the server's data directory
# (stopped cleanly; a second copy, so the disk holds the database twice)
# and the registry directory (its audit log).
pgbin=$(pg_bin)
pgopts=$(pg_opts "$port")
pg_as "$pgbin/pg_ctl" -D "$AMANA_PG_DIR/data" -m fast -w stop >/dev/null
pg_as cp -a "$AMANA_PG_DIR/data" "$AMANA_PG_DIR/month1"
cp -a "$work/registry" "$work/registry.month1"
round_rows=""
for r in $(seq 1 "$rounds"); do
  rm -rf "$AMANA_PG_DIR/data" "$work/registry"
  pg_as cp -a "$AMANA_PG_DIR/month1" "$AMANA_PG_DIR/data"
  cp -a "$work/registry.month1" "$work/registry"
  pg_as "$pgbin/pg_ctl" -D "$AMANA_PG_DIR/data" -l "$AMANA_PG_DIR/server.log" -w -o "$pgopts" start >/dev/null
  echo "round $r of $rounds: importing month 2 (pre-filled lists answered)..." >&2
  timed "month2.$r" "$amana" import "$work/files" --period 202502
  lines2=$(lines_of "$work/month2.$r.out")
  echo "round $r of $rounds: floor, $lines2 rows by COPY..." >&2
  psql -q "$AMANA_TEST_PG" -c "DROP DATABASE IF EXISTS floor" -c "CREATE DATABASE floor OWNER amana_owner"
  sync
  read -r frows fsec frate < <("$floor" "host=127.0.0.1 port=$port user=amana_owner dbname=floor" "$lines2" 200000)
  read -r s2 rss2 < "$work/month2.$r.time"
  rate2=$(awk -v l="$lines2" -v s="$s2" 'BEGIN { printf "%.0f", l / s }')
  round_rows+="$r $s2 $rate2 $fsec $frate $rss2"$'\n'
  if [ "$r" -lt "$rounds" ]; then
    pg_as "$pgbin/pg_ctl" -D "$AMANA_PG_DIR/data" -m fast -w stop >/dev/null
  fi
done
rm -rf "$work/registry.month1"
read -r gsec grss < "$work/gen.time"
read -r s1 rss1 < "$work/month1.time"
read -r vsec _ < "$work/vacuum.time"
rate1=$(awk -v l="$lines1" -v s="$s1" 'BEGIN { printf "%.0f", l / s }')
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med_rate2=$(printf '%s' "$round_rows" | awk '{ print $3 }' | median)
med_frate=$(printf '%s' "$round_rows" | awk '{ print $5 }' | median)
ratio=$(awk -v a="$med_rate2" -v b="$med_frate" 'BEGIN { printf "%.2f", a / b }')
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
| \`VACUUM (ANALYZE)\` between the months (the owner; autovacuum's work) | - | $vsec | - | - |
| import month 2: B02 answering pre-filled lists (median of $rounds rounds) | $lines2 | - | **$med_rate2** | - |
| floor: plain COPY, one row per line, no parsing or crypto (median) | $frows | - | **$med_frate** | - |

| round | month 2 seconds | month 2 lines/s | floor seconds | floor rows/s | import/floor | peak RSS (amana) |
|---|---|---|---|---|---|---|
$(printf '%s' "$round_rows" | awk '{ printf "| %s | %s | %s | %s | %s | %.2f | %d MiB |\n", $1, $2, $3, $4, $5, $3 / $5, $6 / 1024 }')

import/floor on the medians = **$ratio**; database size after both months (one round's):
$(awk -v b="$dbsize" 'BEGIN { printf "%.2f", b / 1e9 }') GB.
TXT
