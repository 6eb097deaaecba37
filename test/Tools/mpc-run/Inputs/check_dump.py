"""Checks mpc-run --dump --json of a full artifact and of its stripped copy.

Usage: check_dump.py FULL.json STRIPPED.json

Prints one line per fact for FileCheck; exits non-zero on an inconsistency.
"""
import json
import sys


def main():
    full, stripped = (json.load(open(p)) for p in sys.argv[1:3])
    for d in (full, stripped):
        slots, instrs = d["slots"], d["instructions"]
        # Every instruction is listed once, in order, with its slots.
        assert [i["index"] for i in instrs] == list(range(len(instrs)))
        for i in instrs:
            for s in i["inputs"] + i["outputs"]:
                assert 0 <= s < len(slots), i
            assert i["visibility"] == slots[i["outputs"][0]]["visibility"]
        # Every reveal is a reveal instruction, with its recipient and reason.
        rev = [i for i in instrs if i["op"] == "reveal"]
        assert [r["instruction"] for r in d["reveals"]] == \
            [i["index"] for i in rev]
        for r, i in zip(d["reveals"], rev):
            assert r["reason"] == i["reason"] and r["reason"]
            assert r["to"] in ("p0", "p1", "both", "client")
            assert r["shape"] == slots[i["outputs"][0]]["shape"]
        # Weights and the slots that carry them point at each other.
        for w in d["weights"]:
            assert slots[w["slot"]]["weight"] == w["index"]
            assert w["owner"] == (w["visibility"] == "owner")
            assert w["offset"] % 64 == 0 and len(w["sha256"]) == 64
    print("instructions %d, reveals %d, weights %d" %
          (len(full["instructions"]), len(full["reveals"]),
           len(full["weights"])))
    for r in full["reveals"]:
        print("reveal to %s: %s" % (r["to"], r["reason"]))
    # The stripped copy: the same program (hash, slots, instructions), the
    # public weights, and none of the owner's.
    assert stripped["hash"] == full["hash"]
    for k in ("slots", "instructions", "reveals", "inputs", "outputs"):
        assert stripped[k] == full[k], k
    assert not full["owner_weights_stripped"]
    assert stripped["owner_weights_stripped"]
    for w, s in zip(full["weights"], stripped["weights"]):
        assert w["present"]
        assert s["present"] == (not w["owner"])
        assert ("values" in s) == s["present"]
        print("weight %d %s: %s" % (w["index"], w["visibility"],
                                    "kept" if s["present"] else "dropped"))
    print("stripped: same hash, %d fewer blob bytes" %
          (full["blobs_size"] - stripped["blobs_size"]))


if __name__ == "__main__":
    main()
