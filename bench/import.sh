#!/usr/bin/env bash
# Import benchmark (issue 2): one month of declarations for a country of
# EMPLOYERS employers and PERSONS persons, through the real `amana` binary,
# against SQLite's own insert rate for the same number of rows on the same
# machine, in the same run (bench_floor).
#
# usage: bash bench/import.sh [EMPLOYERS] [PERSONS] [WORKDIR]
#        defaults: 300000 4000000 /tmp/amana-bench   (needs ~15 GB of disk)
# It prints a Markdown report for docs/BENCHMARKS.md on stdout.
#
# Month 2 and the floor are each run ROUNDS times (default 3), alternating,
# month 2 each time on a fresh copy of the registry as month 1 left it: the
# machine's speed moves (a shared VM), and the goals are judged on the
# medians, each beside the other.
set -euo pipefail
cd "$(dirname "$0")/.."
employers=${1:-300000}
persons=${2:-4000000}
work=${3:-/tmp/amana-bench}
rounds=${ROUNDS:-3}

bash scripts/install-deps.sh
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release cli/amana bench/bench_floor >/dev/null
amana=$PWD/build-release/cli/amana
floor=$PWD/build-release/bench/bench_floor

rm -rf "$work"
mkdir -p "$work"
export AMANA_HOME=$work/registry AMANA_KEY_FILE=$work/kek
"$amana" init >/dev/null

timed() { # label, command...: runs it, records wall seconds and peak RSS (KiB)
  local label=$1; shift
  sync # what the previous step wrote is on disk, not competing with this one
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@" > "$work/$label.out"
}

echo "generating $employers employers, $persons persons, 2 months..." >&2
timed gen "$amana" gen --employers "$employers" --persons "$persons" --months 2 --seed 42 -o "$work/files" --json
echo "importing month 1 (every line a new hire)..." >&2
timed month1 "$amana" import "$work/files" --period 202501
lines_of() { sed -n 's/^imported [0-9]* files\{0,1\} (\([0-9]*\) lines.*/\1/p' "$1"; }
lines1=$(lines_of "$work/month1.out")
rm -rf "$work/month1-registry"
cp -a "$work/registry" "$work/month1-registry"
rates2=() frates=() ratios=()
for k in $(seq 1 "$rounds"); do
  echo "round $k/$rounds: importing month 2 (pre-filled lists answered)..." >&2
  rm -rf "$work/registry"
  cp -a "$work/month1-registry" "$work/registry"
  timed "month2-$k" "$amana" import "$work/files" --period 202502
  lines2=$(lines_of "$work/month2-$k.out")
  read -r s2 rss2 < "$work/month2-$k.time"
  rates2+=("$(awk -v l="$lines2" -v s="$s2" 'BEGIN { printf "%.0f", l / s }')")
  echo "round $k/$rounds: floor, $lines2 rows into SQLite..." >&2
  rm -f "$work/floor.db"*
  sync
  read -r frows fsec frate < <("$floor" "$work/floor.db" "$lines2" 200000)
  frates+=("$frate")
  ratios+=("$(awk -v a="${rates2[-1]}" -v b="$frate" 'BEGIN { printf "%.2f", a / b }')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med2=$(median "${rates2[@]}")
medf=$(median "${frates[@]}")
medratio=$(median "${ratios[@]}")
rounds_rows=""
for k in $(seq 1 "$rounds"); do
  rounds_rows+="| $k | ${rates2[k-1]} | ${frates[k-1]} | ${ratios[k-1]} |"$'\n'
done

read -r gsec grss < "$work/gen.time"
read -r s1 rss1 < "$work/month1.time"
read -r s2 rss2 < "$work/month2-1.time"
bytes2=$(find "$work/files" -name 'DS_*_202502.txt' -printf '%s\n' | awk '{ s += $1 } END { print s }')
dbsize=$(du -cb "$work"/registry/registry.db* | tail -n 1 | cut -f1)
rate1=$(awk -v l="$lines1" -v s="$s1" 'BEGIN { printf "%.0f", l / s }')

cat <<TXT
### Import: $employers employers, $persons persons ($(date -u +%Y-%m-%d))

Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB,
$(uname -sr), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || pkg-config --modversion sqlite3),
libsodium $(pkg-config --modversion libsodium), gcc $(gcc -dumpversion), release build.

| step | lines | seconds | lines/s | peak RSS |
|---|---|---|---|---|
| gen (register + write 2 months of files) | - | $gsec | - | $((grss / 1024)) MiB |
| import month 1: every line a new hire (B04) | $lines1 | $s1 | $rate1 | $((rss1 / 1024)) MiB |
| import month 2 (first round): B02 answering pre-filled lists | $lines2 | $s2 | ${rates2[0]} | $((rss2 / 1024)) MiB |

Month 2 and the floor ($frows rows), alternated, month 2 each time on a fresh copy of the month-1 registry:

| round | month 2 lines/s | floor rows/s | import/floor |
|---|---|---|---|
${rounds_rows}| **median** | **$med2** | **$medf** | **$medratio** |

Month 2 is $(awk -v b="$bytes2" 'BEGIN { printf "%.2f", b / 1e9 }') GB of e-BDS text;
registry size after both months: $(awk -v b="$dbsize" 'BEGIN { printf "%.2f", b / 1e9 }') GB.
TXT
