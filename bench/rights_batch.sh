#!/usr/bin/env bash
# Rights batch benchmark (issue 6): `amana rights batch` over PERSONS persons
# with MONTHS months of careers each: persons/s and peak memory, against the
# goal of 100,000 persons/s (the decryption of their salaries included).
#
# usage: bash bench/rights_batch.sh [PERSONS] [EMPLOYERS] [MONTHS] [WORKDIR]
#        defaults: 4000000 300000 96 /tmp/amana-rights   (about 25 GB of disk)
#
# The registry: `amana gen` registers the country and writes its first month
# (2017-06), `amana import` takes it in, then bench_rights_registry copies
# every employer's declaration to the following months through the
# registry's own chunk writer (bench/rights_registry.c: a fixture; the
# import has benchmarks of its own). It is kept in WORKDIR (reg.done) and
# reused by later runs. The run pays 2025-06, the month after the last
# declared one. ROUNDS (default 2) runs of the batch, each timed with
# /usr/bin/time (wall seconds, peak resident memory).
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-4000000}
employers=${2:-300000}
months=${3:-96}
work=${4:-/tmp/amana-rights}
rounds=${ROUNDS:-2}
first=201706
paid=202506

bash scripts/install-deps.sh >/dev/null
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release cli/amana bench/bench_rights_registry >/dev/null
amana=$PWD/build-release/cli/amana
fixture=$PWD/build-release/bench/bench_rights_registry
export AMANA_HOME=$work/reg AMANA_KEY_FILE=$work/kek

if [ ! -f "$work/reg.done" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  "$amana" init >/dev/null
  echo "registering $persons persons and $employers employers, writing $first..." >&2
  /usr/bin/time -f "gen %e s, %M KiB" "$amana" gen --employers "$employers" --persons "$persons" --months 1 \
    --seed 6 --first-period "$first" -o "$work/files" --json > "$work/gen.json"
  /usr/bin/time -f "import %e s, %M KiB" "$amana" import "$work/files" --period "$first" --json > "$work/import.json"
  rm -rf "$work/files"
  echo "copying to $months months..." >&2
  /usr/bin/time -f "fixture %e s, %M KiB" "$fixture" "$AMANA_HOME" "$AMANA_KEY_FILE" "$first" "$months"
  touch "$work/reg.done"
fi
"$amana" stats --json > "$work/stats.json"
du -sh "$AMANA_HOME" >&2

echo
echo "### rights batch: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("{:,} persons, {:,} lines in {:,} declarations".format(d["persons"], d["lines"], d["declarations"]))' "$work/stats.json")"
echo
echo "$(uname -sr), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; SQLite registry, release build; paid month $paid"
echo
echo "| run | seconds | persons/s | peak RSS | chunks opened | lines judged | payments (family / pension / refund) | goal |"
echo "|---|---|---|---|---|---|---|---|"
for i in $(seq "$rounds"); do
  rm -f "$work/pay.csv"
  sync
  /usr/bin/time -f "%e %M" -o "$work/batch.time" "$amana" rights batch "$paid" -o "$work/pay.csv" --json > "$work/batch.json"
  read -r secs kib < "$work/batch.time"
  python3 - "$work/batch.json" "$secs" "$kib" "$i" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
secs, kib, i = float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rate = d["persons"] / secs
print(f"| {i} | {secs:.1f} | {rate:,.0f} | {kib / 1048576:.2f} GiB | {d['chunks_opened']:,} of {d['chunks']:,} "
      f"| {d['lines_taken']:,} of {d['lines']:,} | {d['family_allowances']:,} / {d['pensions']:,} / {d['pension_refunds']:,} "
      f"| >= 100,000 persons/s: {'met' if rate >= 100000 else 'not met'} |")
EOF
done
