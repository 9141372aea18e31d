#!/usr/bin/env bash
# The demo: install what is missing, build, create a registry with its key
# in ./demo, generate a small synthetic country, import its months one by
# one, show what the registry now knows, then start amanad on it with one
# account per role and print how to log in and a few calls to try.
# Usage: bash scripts/demo.sh   (DEMO_EMPLOYERS, DEMO_PERSONS, DEMO_MONTHS to resize)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build cli/amana http/amanad >/dev/null

amana=$PWD/build/cli/amana
amanad=$PWD/build/http/amanad
demo=$PWD/demo
employers=${DEMO_EMPLOYERS:-300}
persons=${DEMO_PERSONS:-6000}
months=${DEMO_MONTHS:-6}  # six months: enough days for family allowances in the payment run

if [ -e "$demo" ]; then
  echo "removing the previous demo in $demo"
  [ -f "$demo/amanad.pid" ] && kill "$(cat "$demo/amanad.pid")" 2>/dev/null || true
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

files=("$demo"/declarations/DS_*.txt)
first=${files[0]##*/}
aff=${first:3:7}
last=$(tail -n 1 "$demo/periods")
next=$(( last % 100 == 12 ? (last / 100 + 1) * 100 + 1 : last + 1 ))
step "$amana" employer show "$aff"
step "$amana" contributions "$aff" "$last"
step "$amana" prefill "$aff" "$next" -o "$demo/AFFEBDS_${aff}_${next}.txt"
step "$amana" rights batch "$next" -o "$demo/payments_${next}.csv"
reg=$(sed -n 3p "$demo/AFFEBDS_${aff}_${next}.txt" | cut -c17-25)
step "$amana" person show "$reg" --purpose "DEMO-CASE-1"
step "$amana" audit query --subject "$reg"
step "$amana" audit verify

# amanad, with one account per role (all with the demo password below)
printf 'demo password 2025\n' > "$demo/keys/password"
accounts=$demo/accounts.txt
: > "$accounts"
add() { # role login [scope options]
  local role=$1 login=$2; shift 2
  local out secret
  out=$("$amana" account add --role "$role" --login "$login" "$@" --password-file "$demo/keys/password" --json)
  secret=$(sed -n 's/.*"totp_secret":"\([A-Z2-7]*\)".*/\1/p' <<< "$out")
  printf '  %-10s %-16s %s\n' "$role" "$login" "${secret:-(no second factor)}" >> "$accounts"
}
add citizen  citizen.demo --person "$reg"
add employer employer.demo --employer "$aff"
add agent    agent.demo
add supervisor supervisor.demo
add auditor  auditor.demo
add operator operator.demo
"$amanad" --listen 127.0.0.1:0 > "$demo/amanad.out" 2> "$demo/amanad.log" &
echo $! > "$demo/amanad.pid"
for _ in $(seq 50); do grep -q listening "$demo/amanad.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^amanad: listening on //p' "$demo/amanad.out")

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
  $amana career $reg --purpose CASE-42                         # month by month: employer, days, salary
  $amana rights $reg --at ${next:0:4}-${next:4:2}-01 --purpose CASE-42   # every right, its amount, rule and reason
  head $demo/payments_${next}.csv                             # the month's payment run (owner-only)
  $amana import $demo/declarations/DS_${aff}_${last}.txt     # refused: period already declared (exit 3)
  $amana person show $reg                                     # refused without a purpose (exit 4), and logged
  $amana audit query --subject $reg --json                    # who read this person, why, allowed or not
  $amana audit prove 0 --json > /tmp/proof.json && $amana audit check-proof /tmp/proof.json --public-key $AMANA_HOME/audit/public.key
  $amana audit witness $demo/witness                          # a third party's copy of the signed heads

amanad serves the registry on $base (pid $(cat "$demo/amanad.pid"); alerts in $demo/amanad.log;
stop it with: kill \$(cat $demo/amanad.pid)). Every account's password is "demo password 2025";
every role but citizen also needs the current code of its TOTP secret (an authenticator app, or
python3 scripts/totp.py SECRET). The secrets are shown once, here:
  role       login            TOTP secret
$(cat "$accounts")

A few calls to try (curl):
  curl -s -X POST $base/v1/sessions -d '{"login":"citizen.demo","password":"demo password 2025"}'
  curl -s -H "Authorization: Bearer TOKEN" $base/v1/me/access-log        # who read my record, and why
  curl -s -H "Authorization: Bearer TOKEN" $base/v1/me/rights            # my rights today (?at=YYYY-MM-DD)
  curl -s -X POST $base/v1/sessions \\
       -d '{"login":"agent.demo","password":"demo password 2025","totp":"'\$(python3 scripts/totp.py SECRET)'"}'
  curl -s -H "Authorization: Bearer TOKEN" -H "X-Purpose: case 42" $base/v1/persons/$reg
  curl -s -H "Authorization: Bearer TOKEN" $base/v1/persons/$reg         # 403: no purpose, and logged
  curl -s -H "Authorization: Bearer TOKEN" $base/v1/employers/$aff/contributions/$last   # employer.demo
  curl -s $base/metrics
docs/openapi.yaml lists every route.
TXT
