#!/usr/bin/env python3
"""The current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32
secret, as an authenticator app shows it: for the demo and the benchmarks.
usage: python3 scripts/totp.py SECRET"""
import base64
import hmac
import struct
import sys
import time

if len(sys.argv) != 2:
    sys.exit(__doc__)
key = base64.b32decode(sys.argv[1].upper())
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
