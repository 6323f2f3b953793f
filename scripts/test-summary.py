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
    with open(fuzz, encoding="utf-8") as f:
        for line in f:
            if line.startswith("fuzz ") and ": ok" in line:
                passed += 1
            elif line.startswith("fuzz ") and ": FAIL" in line:
                failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
