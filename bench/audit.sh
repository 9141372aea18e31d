#!/usr/bin/env bash
# Audit log benchmark (issue 3): durable appends with 1, 8 and 64 writers,
# proofs and a full verify at BIG entries, against this machine's SHA-256
# rate measured in the same run (bench_audit).
#
# usage: bash bench/audit.sh [BIG_ENTRIES] [WORKDIR]
#        defaults: 100000000 /tmp/amana-bench-audit   (needs ~8 GB of disk)
# It prints a Markdown report for docs/BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-100000000}
work=${2:-/tmp/amana-bench-audit}

bash scripts/install-deps.sh
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-release bench/bench_audit >/dev/null
rm -rf "$work"
mkdir -p "$work"

cat <<TXT
### Audit log: $big entries ($(date -u +%Y-%m-%d))

Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB,
$(uname -sr), $(findmnt -n -o FSTYPE --target "$work") on $(findmnt -n -o SOURCE --target "$work"),
libsodium $(pkg-config --modversion libsodium), gcc $(gcc -dumpversion), release build.

TXT
/usr/bin/time -f "%e s, peak RSS %M KiB" -o "$work/time" build-release/bench/bench_audit "$work" "$big"
echo
echo "Whole run: $(cat "$work/time"); log size: $(du -sh "$work/audit" | cut -f1)."
rm -rf "$work"
