#!/usr/bin/env bash
# The demo: install what is missing, build, create a registry with its key
# in ./demo, generate a small synthetic country, import its months one by
# one, and show what the registry now knows.
# Usage: bash scripts/demo.sh   (DEMO_EMPLOYERS, DEMO_PERSONS, DEMO_MONTHS to resize)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build cli/amana >/dev/null

amana=$PWD/build/cli/amana
demo=$PWD/demo
employers=${DEMO_EMPLOYERS:-300}
persons=${DEMO_PERSONS:-6000}
months=${DEMO_MONTHS:-3}

if [ -e "$demo" ]; then
  echo "removing the previous demo in $demo"
  rm -rf "$demo"
fi
mkdir -p "$demo"
export AMANA_HOME=$demo/registry AMANA_KEY_FILE=$demo/keys/amana.kek
mkdir -p "$demo/keys"
chmod 700 "$demo/keys"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$amana" init
step "$amana" gen --employers "$employers" --persons "$persons" --months "$months" --seed 2025 \
  -o "$demo/declarations"
for f in "$demo"/declarations/DS_*_*.txt; do
  p=${f##*_}; echo "${p%.txt}"
done | sort -u > "$demo/periods"
while read -r period; do
  step "$amana" import "$demo"/declarations/DS_*_"$period".txt
done < "$demo/periods"
step "$amana" stats

aff=$(ls "$demo/declarations" | head -n 1 | cut -c4-10)
last=$(tail -n 1 "$demo/periods")
next=$(( last % 100 == 12 ? (last / 100 + 1) * 100 + 1 : last + 1 ))
step "$amana" employer show "$aff"
step "$amana" contributions "$aff" "$last"
step "$amana" prefill "$aff" "$next" -o "$demo/AFFEBDS_${aff}_${next}.txt"
reg=$(sed -n 3p "$demo/AFFEBDS_${aff}_${next}.txt" | cut -c17-25)
step "$amana" person show "$reg" --purpose "DEMO-CASE-1"
step "$amana" audit query --subject "$reg"
step "$amana" audit verify

cat <<TXT

The registry is in $AMANA_HOME and its key-encryption key in $AMANA_KEY_FILE.
Every name, CIN, birth date and amount in $AMANA_HOME/registry.db is sealed;
try: grep -rc "$(sed -n 3p "$demo/AFFEBDS_${aff}_${next}.txt" | cut -c26-40 | sed 's/ *$//')" $AMANA_HOME (finds nothing)
Every command above is an entry of the signed audit log in $AMANA_HOME/audit.

To go on, in this shell:
  export AMANA_HOME=$AMANA_HOME AMANA_KEY_FILE=$AMANA_KEY_FILE
  $amana --help
  $amana contributions $aff $last --json
  $amana person show $reg --purpose CASE-42 --json
  $amana import $demo/declarations/DS_${aff}_${last}.txt     # refused: period already declared (exit 3)
  $amana person show $reg                                     # refused without a purpose (exit 4), and logged
  $amana audit query --subject $reg --json                    # who read this person, why, allowed or not
  $amana audit prove 0 --json > /tmp/proof.json && $amana audit check-proof /tmp/proof.json --public-key $AMANA_HOME/audit/public.key
  $amana audit witness $demo/witness                          # a third party's copy of the signed heads
TXT
