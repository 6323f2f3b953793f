#!/bin/sh
# Runs every libFuzzer target (fuzz_*) under BUILD_DIR/tests/fuzz for SECONDS each, starting
# from a temporary copy of its seeds in tests/fuzz/corpus/<target>/ so the tree is not touched.
# Prints one line per target; exits 1 if any target crashed or failed to run.
#
#   tests/fuzz/run.sh build-fuzz 60
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
corpus_root="$here/corpus"

if [ ! -d "$build_dir/tests/fuzz" ]; then
    echo "$0: no $build_dir/tests/fuzz (configure with -Dfuzz=enabled, see tests/fuzz/README.md)" >&2
    exit 2
fi
targets=$(find "$build_dir/tests/fuzz" -type f -name 'fuzz_*' -perm -u+x | sort)
if [ -z "$targets" ]; then
    echo "$0: no fuzz_* executables under $build_dir/tests/fuzz (run ninja first)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/idpath-fuzz.XXXXXX")
failed=0
for bin in $targets; do
    name=$(basename "$bin")
    dir="$work/$name"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [ -d "$corpus_root/$name" ]; then
        cp -R "$corpus_root/$name/." "$dir/corpus/"
    fi
    log="$dir/log"
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    if [ "$rc" -eq 0 ]; then
        printf '%-36s ok     execs=%s cov=%s\n' "$name" "${execs:-?}" "${cov:-?}"
    else
        crash=$(ls "$dir/artifacts" 2>/dev/null | head -n 1)
        printf '%-36s FAILED rc=%s log=%s artifact=%s\n' "$name" "$rc" "$log" \
            "${crash:+$dir/artifacts/$crash}"
        failed=1
    fi
done

if [ "$failed" -eq 0 ]; then
    rm -rf "$work"
else
    echo "logs and crash inputs kept in $work" >&2
fi
exit "$failed"
