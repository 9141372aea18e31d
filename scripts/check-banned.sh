#!/usr/bin/env bash
# Functions we do not call (git's banned.h, curl's checksrc): unbounded
# copies and formats, and parsers that cannot report an error. Exit 1 with
# the places if any appears in our C sources.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(strcpy|strcat|strncpy|strncat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|system|popen)[[:space:]]*\('
if grep -nE "$pattern" $(find core crypto store audit policy service http cli tests bench fuzz -name '*.[ch]'); then
  echo "banned functions above: use bounded forms (snprintf, memcpy with a size) and strtol with checks" >&2
  exit 1
fi
