#!/usr/bin/env python3
"""Verify an export of the Sendara Privacy Console's audit log, without the console.

Usage: python3 verify_audit.py [--filtered] EXPORT.jsonl
Exit 0 when the export verifies, 1 naming the first bad line. A full export
(the default) must be one unbroken chain; a filtered export (--filtered)
may skip entries, and only the entries on each side of a skip are checked.
The encoding is the README's "Canonical encoding"; standard library only.
"""
import hashlib, json, sys

TEXT = ["actor_type", "actor_id", "actor_label", "ip", "action",
        "object_type", "object_id", "customer_id", "details"]

def quote(s):  # a JSON string as Go's encoding/json writes it
    out = json.dumps(s, ensure_ascii=False)
    for c, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(c, esc)
    return out

def entry_hash(e):
    body = '{"seq":%d,"occurred_at":%s' % (e["seq"], quote(e["occurred_at"]))
    body += "".join(',"%s":%s' % (k, quote(e[k])) for k in TEXT) + "}"
    return hashlib.sha256((e["prev_hash"] + body).encode("utf-8")).hexdigest()

def verify(lines, filtered):
    prev = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        e = json.loads(line)
        seq = e["seq"]
        if prev is None and seq == 1 and e["prev_hash"] != "":
            return "line %d: entry 1 does not start the chain" % n
        if prev is not None:
            if seq <= prev[0]:
                return "line %d: entry %d is out of order (after %d)" % (n, seq, prev[0])
            if seq > prev[0] + 1 and not filtered:
                return "line %d: entry %d is missing" % (n, prev[0] + 1)
            if seq == prev[0] + 1 and e["prev_hash"] != prev[1]:
                return "line %d: entry %d does not link to entry %d" % (n, seq, prev[0])
        if entry_hash(e) != e["hash"]:
            return "line %d: entry %d was edited: its content does not match its hash" % (n, seq)
        prev = (seq, e["hash"])
    return None

if __name__ == "__main__":
    args = sys.argv[1:]
    filtered = "--filtered" in args
    paths = [a for a in args if a != "--filtered"]
    if len(paths) != 1:
        sys.exit("usage: verify_audit.py [--filtered] EXPORT.jsonl")
    with open(paths[0], encoding="utf-8") as f:
        problem = verify(f, filtered)
    if problem:
        print("export broken: " + problem, file=sys.stderr)
        sys.exit(1)
    print("export intact")
