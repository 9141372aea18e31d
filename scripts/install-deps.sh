#!/usr/bin/env bash
# Install what building and testing Amana needs, from Debian's archive,
# only if something is missing. Run as root (or with sudo) on Debian 12.
set -euo pipefail

packages=(
  build-essential   # gcc, make, libc headers
  meson ninja-build pkg-config python3
  clang             # libFuzzer targets (fuzz/)
  clang-format      # the formatting check
  libsodium-dev     # AEAD sealing, BLAKE2b blind indexes, key wrapping
  libsqlite3-dev    # the embedded store
  libjansson-dev    # parsing JSON: proofs handed to audit check-proof, witness heads
  libpq-dev         # the PostgreSQL store backend
  liboath-dev       # TOTP second factors (RFC 6238)
  libmicrohttpd-dev # amanad's HTTP server
  postgresql        # a throwaway server the tests start (initdb in a temporary folder)
  libcmocka-dev     # the test framework
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
