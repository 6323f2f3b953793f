"""A minimal TAP runner for the integration tests: every function named test_* in a module is a
test point; "ok N - name" / "not ok N - name" / "ok N - name # SKIP reason". meson reads TAP."""
import sys
import traceback


class Skip(Exception):
    pass


def run(module_globals: dict, setup=None, teardown=None) -> int:
    tests = sorted((n, f) for n, f in module_globals.items() if n.startswith("test_") and callable(f))
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    ctx = None
    try:
        ctx = setup() if setup else None
    except Skip as s:
        for i, (name, _) in enumerate(tests, 1):
            print(f"ok {i} - {name} # SKIP {s}", flush=True)
        return 0
    try:
        for i, (name, fn) in enumerate(tests, 1):
            try:
                fn(ctx) if setup else fn()
                print(f"ok {i} - {name}", flush=True)
            except Skip as s:
                print(f"ok {i} - {name} # SKIP {s}", flush=True)
            except Exception:  # a failing test must not stop the others
                failed += 1
                print(f"not ok {i} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
                # meson shows a failing test's stderr, not its TAP comments: say it there too.
                print(f"{name}:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    finally:
        if teardown:
            teardown(ctx)
    return 1 if failed else 0


def main(module_globals: dict, setup=None, teardown=None):
    sys.exit(run(module_globals, setup, teardown))
