#!/usr/bin/env python3
"""Scheduled snapshots (data.snapshot_interval_seconds, docs/operations.md "Snapshots"): a table
loaded from the identifier files is saved to data.snapshot within the interval; nothing is written
while nothing changes; an update applied while serving reaches the file within the interval; and
a restarted idpathd serves the update from the snapshot, with the same content digest
(`idpathctl digest`)."""
import json
import os
import shutil
import tempfile
import time

from harness import main
from idpath_env import Daemon

HANDLE = "88.100.1/scheduled-1"


class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="idpath-snap-sched-")
        self.snapshot = os.path.join(self.root, "table.snap")
        self.daemon = self.start()

    def start(self):
        return Daemon(snapshot=self.snapshot, snapshot_interval=1).start()

    def status(self):
        return self.daemon.ctl_json("status")["table"]["snapshot"]

    def wait_saved(self, after_mtime, timeout=6):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.snapshot) and os.stat(self.snapshot).st_mtime_ns != after_mtime:
                s = self.status()
                if not s["unsaved_changes"]:
                    return os.stat(self.snapshot).st_mtime_ns
            time.sleep(0.1)
        raise AssertionError(f"no scheduled save within {timeout} s: {self.status()}")


def setup():
    return Env()


def teardown(env):
    if env:
        env.daemon.stop()
        shutil.rmtree(env.root, ignore_errors=True)


def test_1_table_from_files_is_saved(env):
    s = env.status()
    assert s["interval_seconds"] == 1, s
    env.mtime = env.wait_saved(None)
    assert "saved" in env.status()["last_save"], env.status()


def test_2_nothing_written_without_changes(env):
    time.sleep(2.5)
    assert os.stat(env.snapshot).st_mtime_ns == env.mtime
    assert env.status()["unsaved_changes"] is False


def test_3_an_update_reaches_the_file(env):
    path = os.path.join(env.root, "update.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps({"op": "create", "handle": HANDLE,
                            "values": [{"index": 1, "type": "URL", "data": "https://example.org/s"}]}) + "\n")
    r = env.daemon.ctl("update", path)
    assert r.returncode == 0, r.stderr
    env.mtime = env.wait_saved(env.mtime)
    env.digest = env.daemon.ctl_json("digest")
    assert env.digest["records"] > 0 and len(env.digest["buckets"]) == 64, env.digest


def test_4_a_restart_serves_the_update_from_the_snapshot(env):
    env.daemon.stop()
    env.daemon = env.start()
    status = env.daemon.ctl_json("status")["table"]
    assert status["source"] == "snapshot", status
    found = env.daemon.ctl_json("lookup", HANDLE)  # fails when the handle is not in the table
    assert found["handle"] == HANDLE.upper(), found
    assert [v["data"] for v in found["values"]] == ["https://example.org/s"], found
    # The restarted node serves exactly the records the first one did (idpathctl digest).
    assert env.daemon.ctl_json("digest") == env.digest


if __name__ == "__main__":
    main(globals(), setup, teardown)
