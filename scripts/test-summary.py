#!/usr/bin/env python3
"""Prints one closing line for the whole test run, counting every GoogleTest case and TAP
point meson recorded, plus each fuzz target: "N passed, N failed, N skipped"."""
import sys
import xml.etree.ElementTree as ET


def main(junit: str, fuzz: str) -> int:
    passed = failed = skipped = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    # tests/fuzz/run.sh prints "<target> ok ..." or "<target> FAILED ..." per target.
    with open(fuzz, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0].startswith("fuzz_"):
                if words[1] == "ok":
                    passed += 1
                else:
                    failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
