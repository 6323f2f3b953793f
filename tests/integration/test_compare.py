#!/usr/bin/env python3
"""perf/compare/compare --quick (docs/compare.md): one round of 1 s per figure on 2 000
identifiers, on a veth pair across namespaces the script creates and removes. Checks that it
exits 0, leaves no cmp-* namespace of its own behind, and writes a JSON summary with all four
figures above zero: A (idpathd DPDK on net_af_xdp), B (knotd XDP; skipped, saying so, only where
knotd or kxdpgun is not installed), C (testpmd's raw I/O ceiling), D (idpathd on kernel
sockets), plus the latency runs at 50 % and 90 % of A. A smoke test of the tooling, not a
performance test: the figures are not compared with anything. Needs root, AF_XDP, dpdk-testpmd,
and the build's idpath-gun and idpath-datagen."""
import json
import os
import shutil
import socket
import subprocess
import tempfile

from harness import Skip, main

BUILD = os.environ.get("IDPATH_BUILD_ROOT", "build")
SOURCE = os.environ.get("IDPATH_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(SOURCE, "perf", "compare", "compare")
NEEDED = ("idpathd", "idpathctl", "perf/gun/idpath-gun", "perf/datagen/idpath-datagen")
KNOT = ("/usr/sbin/knotd", "/usr/sbin/kxdpgun")


def setup():
    if os.geteuid() != 0:
        raise Skip("needs root for network namespaces and AF_XDP")
    try:
        socket.socket(getattr(socket, "AF_XDP", 44), socket.SOCK_RAW).close()
    except OSError as e:
        if e.errno in (97, 93):  # EAFNOSUPPORT, EPROTONOSUPPORT
            raise Skip("this kernel has no AF_XDP sockets")
    if not os.access("/usr/bin/dpdk-testpmd", os.X_OK):
        raise Skip("dpdk-testpmd missing (Debian package dpdk-dev; scripts/setup installs it)")
    missing = [p for p in NEEDED if not os.access(os.path.join(BUILD, p), os.X_OK)]
    if missing:
        raise Skip(f"not built in {BUILD}: {', '.join(missing)} (ninja -C {BUILD})")
    tmp = tempfile.mkdtemp(prefix="idpath-compare-it-")
    out = os.path.join(tmp, "compare.json")
    before = namespaces()
    r = subprocess.run([SCRIPT, "--quick", "--build", BUILD, "--json-out", out],
                       capture_output=True, text=True, timeout=240)
    return {"tmp": tmp, "out": out, "run": r, "before": before, "after": namespaces()}


def teardown(ctx):
    if ctx:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)


def namespaces():
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return {line.split()[0] for line in r.stdout.splitlines() if line.strip()}


def summary(ctx):
    r = ctx["run"]
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    with open(ctx["out"]) as f:
        return json.load(f)


def test_exits_0_and_writes_the_summary(ctx):
    s = summary(ctx)
    assert s["params"]["rounds"] == 1 and s["params"]["duration"] == 1, s["params"]
    assert "about" in ctx["run"].stdout.splitlines()[0], "the total run time is printed first"


def test_removes_its_namespaces(ctx):
    left = {n for n in ctx["after"] - ctx["before"] if n.startswith("cmp-")}
    assert not left, f"left behind: {left}"


def test_a_idpathd_dpdk_af_xdp(ctx):
    s = summary(ctx)
    assert s["median"]["A"] > 0, s["median"]
    a = [r for r in s["runs"] if r["kind"] == "A"][0]
    assert a["lost"] == 0 or a["lost"] < a["answered"], a


def test_b_knot_xdp(ctx):
    s = summary(ctx)
    if not s["knot"]:
        missing = [p for p in KNOT if not os.access(p, os.X_OK)]
        assert missing or not shutil.which("kdig"), "knot is installed but B did not run"
        raise Skip("knotd/kxdpgun not installed (Debian packages knot, knot-dnsutils): "
                   + "; ".join(s["notes"]))
    assert s["median"]["B"] > 0 and s["median"]["B_max"] > 0, s["median"]
    assert s["ratios"]["A/B"] > 0


def test_c_testpmd_ceiling(ctx):
    s = summary(ctx)
    assert s["median"]["C"] > 0, s["median"]
    assert s["ratios"]["A/C"] > 0


def test_d_idpathd_sockets(ctx):
    s = summary(ctx)
    assert s["median"]["D"] > 0, s["median"]


def test_latency_at_50_and_90_percent(ctx):
    s = summary(ctx)
    for pct in ("50", "90"):
        lat = s["latency"][pct]["latency_us"]
        assert lat["p50"] > 0 and lat["p99.9"] >= lat["p99"] >= lat["p90"] >= lat["p50"], lat


if __name__ == "__main__":
    main(globals(), setup, teardown)
