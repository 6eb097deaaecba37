"""What the benchmark reports share: the formatting of bytes, seconds and
ratios, and the footer every report ends with (wall time, commit, whether
the tools changed during the run, load averages: the files run.sh writes
into its work directory through bench/common.sh)."""
import os


def fb(b):
    b = float(b)
    for unit, s in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(b) >= s:
            return f"{b / s:.3g} {unit}" if abs(b) / s < 100 else f"{b / s:.0f} {unit}"
    return f"{b:.0f} B"


def fs(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt(key, v):
    if key in ("bytes", "dealer"):
        return fb(v)
    if key == "seconds":
        return fs(v)
    return f"{v:.0f}"


def ratio(a, b):
    return a / b if b else float("nan")


def print_provenance(work):
    def path(name):
        return os.path.join(work, name)
    if os.path.exists(path("bench.wall")):
        print(f"Benchmark wall time: {open(path('bench.wall')).read().split()[1]} s.")
    if os.path.exists(path("commit.txt")):
        print(f"Commit: {open(path('commit.txt')).read().strip()}.")
    if os.path.exists(path("tools.txt")):
        comp, runs = {}, {}
        for line in open(path("tools.txt")):
            step, c, r = line.split()
            if step.startswith("compile-"):
                comp.setdefault(c, []).append(step[len("compile-"):])
            elif step.startswith("run-"):
                runs.setdefault(r, []).append(step[len("run-"):])
        for tool, seen in (("mpc-compile", comp), ("mpc-run", runs)):
            if len(seen) > 1:
                print(f"**Warning: {tool} changed during the run** (sha256 prefix: steps): " +
                      "; ".join(f"{h}: {', '.join(st)}" for h, st in seen.items()) + ".")
            elif seen:
                print(f"One build of {tool} for all its steps (sha256 {next(iter(seen))}).")
    if os.path.exists(path("load.txt")):
        print("Load average (1, 5, 15 min) at each step: " +
              "; ".join(l.strip() for l in open(path("load.txt"))) + ".")
