"""Prints a .umbra artifact for FileCheck: header checks, the program section
as JSON (flatc with the runtime's schema) and one line per weight blob.

Usage: dump_umbra.py FILE.umbra

Checks what runtime/src/Program.cpp checks about the container (magic,
format version, section bounds and alignment, SHA-256 of the program
section, per-blob SHA-256) and exits non-zero with a message otherwise.
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "..", "..", "runtime", "schema",
                      "program.fbs")


def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "%g" % v
    if isinstance(v, list):
        return "[%s]" % ", ".join(fmt(x) for x in v)
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def main():
    data = open(sys.argv[1], "rb").read()
    assert len(data) >= 128, "truncated header"
    assert data[:8] == b"UMBRAPRG", "bad magic"
    version, = struct.unpack_from("<I", data, 8)
    p_off, p_size, b_off, b_size = struct.unpack_from("<4Q", data, 16)
    assert version == 1, "format version %d" % version
    assert p_off == 128 and p_off + p_size <= len(data), "program bounds"
    assert b_off % 64 == 0 and b_off >= p_off + p_size, "blob section"
    assert b_off + b_size == len(data), "blob section size"
    prog = data[p_off:p_off + p_size]
    assert hashlib.sha256(prog).digest() == data[48:80], "program hash"
    print("header: version %d program %d bytes blobs %d bytes" %
          (version, p_size, b_size))
    with tempfile.TemporaryDirectory() as tmp:
        binp = os.path.join(tmp, "program.bin")
        open(binp, "wb").write(prog)
        subprocess.check_call(["flatc", "--json", "--strict-json",
                               "--raw-binary", "--defaults-json", "-o", tmp,
                               SCHEMA, "--", binp])
        j = json.load(open(os.path.join(tmp, "program.json")))
    for i, w in enumerate(j.get("weights", [])):
        blob = data[b_off + w["offset"]:b_off + w["offset"] + w["size"]]
        assert w["offset"] % 64 == 0, "weight %d misaligned" % i
        assert hashlib.sha256(blob).digest() == bytes(w["sha256"]), \
            "weight %d hash" % i
        if w["dtype"] == "F32":
            vals = struct.unpack("<%df" % (len(blob) // 4), blob)
        elif w["dtype"] == "F64":
            vals = struct.unpack("<%dd" % (len(blob) // 8), blob)
        else:
            vals = struct.unpack("<%dq" % (len(blob) // 8), blob)
        shown = " ".join("%g" % v for v in vals[:8])
        print("weight %d: offset %d size %d %s [%s%s]" %
              (i, w["offset"], w["size"], w["dtype"], shown,
               " ..." if len(vals) > 8 else ""))
        del w["sha256"]
    print("isa %d frac %d" % (j["isa_version"], j["frac_bits"]))
    for i, s in enumerate(j["slots"]):
        print("slot %d: %s %s frac %d %s%s" %
              (i, s.get("name", ""), "x".join(map(str, s.get("shape", []))),
               s["frac_bits"], s["visibility"],
               " weight %d" % s["weight"] if s["weight"] >= 0 else ""))
    for i, ins in enumerate(j["instrs"]):
        line = "instr %d: %s %s -> %s" % (i, ins["attrs_type"],
                                          ins.get("inputs", []),
                                          ins.get("outputs", []))
        # The instruction's typed attributes (schema field names).
        for k, v in ins.get("attrs", {}).items():
            line += " %s=%s" % (k, fmt(v))
        # Who computes it: Client/Owner in plaintext, Shared under MPC.
        line += " vis=%s" % j["slots"][ins["outputs"][0]]["visibility"]
        print(line)
    print("outputs %s" % j.get("outputs", []))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit("dump_umbra: invalid artifact: %s" % e)
