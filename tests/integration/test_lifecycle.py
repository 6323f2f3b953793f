#!/usr/bin/env python3
"""idpathd as an operator meets it: --check-config verdicts naming file, line and key; data
errors refusing to start (all or nothing) with file and line; a clean stop on SIGTERM."""
import os
import subprocess
import tempfile
import time

from harness import main
from idpath_env import IDPATHD, SOURCE, Daemon

SAMPLE_CONFIG = os.path.join(SOURCE, "configs", "sample", "idpathd.yaml")


def check(path):
    return subprocess.run([IDPATHD, "--check-config", path], capture_output=True, text=True, timeout=60)


def test_shipped_configs_validate():
    for name in ("sample/idpathd.yaml", "idpathd.example.yaml"):
        r = check(os.path.join(SOURCE, "configs", name))
        assert r.returncode == 0, (name, r.stdout, r.stderr)


def test_bad_config_names_file_line_key_reason():
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "bad.yaml")
        with open(p, "w", encoding="utf-8") as f:
            f.write("node:\n  id: x\nservice:\n  max_udp_datagrams: 0\n  colour: blue\n")
        r = check(p)
        assert r.returncode == 1, r.stdout
        assert f"{p}:4:" in r.stderr and "max_udp_datagrams" in r.stderr, r.stderr
        assert f"{p}:5:" in r.stderr and "colour" in r.stderr, r.stderr


def test_missing_config_file():
    r = check("/nonexistent/idpathd.yaml")
    assert r.returncode == 1 and "/nonexistent/idpathd.yaml" in r.stderr


def test_bad_data_line_refuses_to_start():
    with tempfile.TemporaryDirectory() as t:
        data = os.path.join(t, "ids.jsonl")
        with open(data, "w", encoding="utf-8") as f:
            f.write('{"handle":"88.100.1/ok","values":[{"index":1,"type":"URL","data":"x"}]}\n')
            f.write('{"handle":"88.100.1/bad","values":[{"index":1,"type":"URL"}]}\n')
        d = Daemon(data=data)
        try:
            d.start(timeout=10)
        except RuntimeError as e:
            assert f"{data}:2" in str(e), str(e)
        else:
            raise AssertionError("idpathd started on bad data")
        finally:
            d.tmp.cleanup()


def test_sigterm_stops_promptly_with_status_0():
    d = Daemon().start()
    t0 = time.monotonic()
    rc = d.stop(timeout=5)
    assert rc == 0 and time.monotonic() - t0 < 5


def test_version():
    r = subprocess.run([IDPATHD, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "2.11" in r.stdout


if __name__ == "__main__":
    main(globals())
