#!/usr/bin/env python3
"""The change journal (data.journal, docs/operations.md "Journal"): an update's changes are
journaled before the reply, so after kill -9 (no snapshot saved: snapshot_interval 0) a restarted
idpathd serves them from the journal's replay; after `idpathctl snapshot save` the restart
replays nothing past the snapshot's txn mark and serves the same content (`idpathctl digest`).
With data.journal_segment_mb 1, an update past 1 MiB seals the active file into a segment, and
a restart replays across it."""
import json
import os
import shutil
import tempfile

from harness import main
from idpath_env import Daemon

CREATED = "88.100.1/journal-1"
MODIFIED = "88.100.1/kept"
DELETED = "88.100.1/private-1"


class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="idpath-journal-")
        # Every value timestamped: a table rebuilt from files at restart is then the same to the
        # octet (values without one get the load time, and the digest would see the second).
        self.data = os.path.join(self.root, "identifiers.jsonl")
        with open(self.data, "w") as f:
            for h in (MODIFIED, DELETED, "88.200.7/other"):
                f.write(json.dumps({"handle": h, "values": [
                    {"index": 1, "type": "URL", "data": "https://example.org/" + h, "timestamp": 1700000000},
                    {"index": 2, "type": "EMAIL", "data": "a@example.org", "timestamp": 1700000000}]}) + "\n")
        self.snapshot = os.path.join(self.root, "table.snap")
        self.journal = os.path.join(self.root, "changes.journal")
        self.daemon = self.start()

    def start(self):
        return Daemon(data=self.data, snapshot=self.snapshot, snapshot_interval=0, journal=self.journal,
                      data_extra="  journal_segment_mb: 1\n").start()

    def crash(self):
        self.daemon.proc.kill()  # SIGKILL: no orderly stop, no snapshot
        self.daemon.proc.wait()
        self.daemon.tmp.cleanup()

    def journal_status(self):
        return self.daemon.ctl_json("status")["table"]["journal"]

    def values(self, handle):
        return {v["index"]: v.get("data", v.get("data_hex")) for v in self.daemon.ctl_json("lookup", handle)["values"]}


def setup():
    return Env()


def teardown(env):
    if env:
        env.daemon.stop()
        shutil.rmtree(env.root, ignore_errors=True)


def test_1_an_update_is_journaled(env):
    j = env.journal_status()
    assert j["path"] == env.journal and j["last_txn"] == 0 and j["replayed"] == 0, j
    path = os.path.join(env.root, "update.jsonl")
    with open(path, "w") as f:
        for line in (
            {"op": "create", "handle": CREATED, "values": [{"index": 1, "type": "URL", "data": "https://example.org/j"}]},
            {"op": "modify_values", "handle": MODIFIED, "values": [{"index": 1, "type": "URL", "data": "https://example.org/m"}]},
            {"op": "delete", "handle": DELETED},
            {"op": "delete", "handle": "88.100.1/not-there"},  # refused: not journaled
        ):
            f.write(json.dumps(line) + "\n")
    r = env.daemon.ctl("update", path)
    assert r.returncode == 0, r.stderr
    assert "3 applied, 1 refused" in r.stdout, r.stdout
    assert env.journal_status()["last_txn"] == 3, env.journal_status()
    env.digest = env.daemon.ctl_json("digest")


def test_2_kill_9_and_the_journal_replays(env):
    env.crash()
    assert not os.path.exists(env.snapshot)
    env.daemon = env.start()
    j = env.journal_status()
    assert j["last_txn"] == 3 and j["replayed"] == 3 and j["truncated_tail_bytes"] == 0, j
    assert env.values(CREATED)[1] == "https://example.org/j"
    assert env.values(MODIFIED)[1] == "https://example.org/m"
    assert env.daemon.ctl("lookup", DELETED).returncode != 0
    got = env.daemon.ctl_json("digest")
    assert got == env.digest, {k: (got[k], env.digest[k]) for k in got if got[k] != env.digest.get(k)}


def test_3_after_a_snapshot_nothing_is_replayed(env):
    r = env.daemon.ctl("snapshot", "save")
    assert r.returncode == 0, r.stderr
    with open(env.snapshot + ".txn") as f:
        assert f.read().strip() == "3"
    env.crash()
    env.daemon = env.start()
    status = env.daemon.ctl_json("status")["table"]
    assert status["source"] == "snapshot", status
    assert status["journal"]["replayed"] == 0 and status["journal"]["last_txn"] == 3, status["journal"]
    got = env.daemon.ctl_json("digest")
    assert got == env.digest, {k: (got[k], env.digest[k]) for k in got if got[k] != env.digest.get(k)}


BIG = 300  # creates of 4 KiB each: one append of 1.2 MiB, past the 1 MiB segment size


def test_4_the_journal_is_sealed_and_replayed_across_segments(env):
    path = os.path.join(env.root, "big.jsonl")
    with open(path, "w") as f:
        for i in range(BIG):
            f.write(json.dumps({"op": "create", "handle": f"88.100.1/big-{i}",
                                "values": [{"index": 1, "type": "DESC", "data": f"{i:04d}" + "x" * 4092}]}) + "\n")
    r = env.daemon.ctl("update", path)
    assert r.returncode == 0, r.stderr
    j = env.journal_status()
    last = 3 + BIG
    assert j["last_txn"] == last and j["first_txn"] == 1 and j["entries"] == last, j
    assert j["segments"] == 2 and j["bytes"] > 1 << 20 and j["segments_deleted"] == 0, j
    sealed = env.journal + ".00000000000000000001"
    assert os.path.getsize(sealed) > 1 << 20, sealed
    assert os.path.getsize(env.journal) == 24, "a new active file holds only its header"
    env.crash()
    env.daemon = env.start()
    j = env.journal_status()
    # The snapshot (test 3) holds txn 3; everything after it is in the sealed segment.
    assert j["replayed"] == BIG and j["last_txn"] == last and j["segments"] == 2, j
    assert env.values("88.100.1/big-299")[1].startswith("0299x"), env.values("88.100.1/big-299")


if __name__ == "__main__":
    main(globals(), setup, teardown)
