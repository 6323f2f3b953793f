#!/usr/bin/env python3
"""`idpath-dig --recurse` against real authoritative idpathd instances on loopback (hierarchy.py):
the engine walks root -> (303 ->) site -> hashed server for handles under every prefix."""
import json

from harness import main
from hierarchy import B2_HANDLES, V4, Hierarchy, java_server_number
from idpath_env import dig


class Env(Hierarchy):
    def __init__(self):
        super().__init__("idpath-recursion-")

    def recurse(self, handle, *extra):
        return dig("--recurse", self.root(), "--timeout", "1000", "--tries", "1", *extra, handle)


def setup():
    return Env()


def teardown(env):
    env.stop()


def answer(env, handle):
    r = env.recurse(handle, "--json")
    assert r.returncode == 0, (handle, r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_root_site_then_answer(env):
    j = answer(env, "88.100.1/abc")
    assert j["response_code"] == 1 and j["values"][0]["data"] == "https://example.org/b/abc", j
    hops = j["recursion"]["hops"]
    assert [h["question"] for h in hops] == ["0.NA/88.100.1", "88.100.1/abc"], hops
    assert hops[0]["server"] == env.root() and hops[0]["transport"] == "udp"
    assert hops[1]["server"] == f"{V4}:{env.ports(env.b)[0]}"
    assert j["recursion"]["levels"] == 2


def test_two_server_site_hash_picks_the_holder(env):
    seen = set()
    for h in B2_HANDLES:
        n = java_server_number(h, 2)
        seen.add(n)
        j = answer(env, h)
        assert j["values"][0]["data"] == f"https://example.org/b2{'ab'[n]}/{h}", (h, j)
        assert j["recursion"]["hops"][-1]["server"] == f"{V4}:{env.ports(env.b2[n])[0]}", j
    assert seen == {0, 1}, "the handles must exercise both servers"


def test_wrong_server_would_answer_not_found(env):
    # The premise of the test above: each shard holds only its own handles.
    h = B2_HANDLES[0]
    other = env.b2[1 - java_server_number(h, 2)]
    r = dig("@" + V4, "-p", str(env.ports(other)[0]), h)
    assert r.returncode == 1 and "RC_HANDLE_NOT_FOUND" in r.stdout, r.stdout


def test_prefix_referral_to_second_level(env):
    j = answer(env, "88.300/deep")
    assert j["values"][0]["data"] == "https://example.org/b/deep", j
    hops = j["recursion"]["hops"]
    assert [(h["question"], h["response_code"]) for h in hops] == [
        ("0.NA/88.300", 303), ("0.NA/88.300", 1), ("88.300/deep", 1)], hops
    assert hops[1]["server"] == f"{V4}:{env.ports(env.s)[0]}"
    assert hops[0]["note"] == "prefix referral to 1 site"


def test_missing_handle_is_100(env):
    r = env.recurse("88.200/no-such-item")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "RC_HANDLE_NOT_FOUND" in r.stdout and ";; HOP 2:" in r.stdout, r.stdout
    r = env.recurse("88.100.1/absent", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["response_code"] == 100, r.stdout


def test_text_output_shows_hops_then_the_answer(env):
    r = env.recurse("88.100.1/abc")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(";; HOP 1: 0.NA/88.100.1 -> " + env.root() + " (UDP): RC_SUCCESS (1)"), lines
    assert lines[1].startswith(";; HOP 2: 88.100.1/abc -> "), lines
    assert any("https://example.org/b/abc" in ln for ln in lines), r.stdout
    assert lines[-1].startswith(";; RECURSION: 2 levels, 2 exchanges"), lines


def test_unreachable_root_fails_with_status_3(env):
    r = dig("--recurse", f"{V4}:1", "--timeout", "200", "--tries", "1", "88.100.1/abc")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "recursion failed" in r.stderr


def test_usage_errors(env):
    assert dig("--recurse", "not-an-address", "88.100.1/abc").returncode == 2
    assert dig("--recurse", env.root(), "@127.0.0.1", "88.100.1/abc").returncode == 2
    assert dig("--recurse", env.root(), "--type", "URL", "88.100.1/abc").returncode == 2


if __name__ == "__main__":
    main(globals(), setup, teardown)
