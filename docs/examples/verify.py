"""Verify a Sendara webhook (Standard Webhooks), standard library only.

Usage: python3 verify.py signature-fixture.json  (CI runs it on the fixture
the Go code signs; exit 0 when every check below holds).
"""
import base64
import hashlib
import hmac
import json
import sys
import time


def verify_sendara(secret, headers, body, now=None, tolerance=300):
    """Raise ValueError unless body carries a valid signature under secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    now = time.time() if now is None else now
    if abs(now - int(ts)) > tolerance:
        raise ValueError("timestamp too old or too new: a replay?")
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in headers["webhook-signature"].split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, want):
            return
    raise ValueError("no valid signature")


def main(path):
    f = json.load(open(path))
    body = f["body"].encode()
    verify_sendara(f["secret"], f["headers"], body, now=f["now"])
    verify_sendara(f["old_secret"], f["headers"], body, now=f["now"])
    for name, args in {
        "edited body": (f["secret"], f["headers"], body.replace(b"opted_out", b"opted_in"), f["now"]),
        "wrong secret": ("whsec_" + base64.b64encode(b"x" * 24).decode(), f["headers"], body, f["now"]),
        "an hour later": (f["secret"], f["headers"], body, f["now"] + 3600),
    }.items():
        try:
            verify_sendara(*args)
        except ValueError:
            continue
        sys.exit(f"python: {name} verified, it must not")
    print("python: signature fixture verified")


if __name__ == "__main__":
    main(sys.argv[1])
