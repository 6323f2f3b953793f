#!/bin/sh
# DESIGN.md section 2: DPDK and libbpf headers only under drivers/ (and in the drivers' own
# tests, which play the other side, e.g. attaching an object file the way DPDK does); dataplane/
# never includes controlplane/ or drivers/, nor yaml-cpp or oneTBB.
set -eu
root=${1:-.}
cd "$root"
bad=$(grep -rlE '#include <(rte_|bpf/|xdp/)' --include='*.[ch]pp' --include='*.[ch]' . 2>/dev/null \
      | grep -v '^\./drivers/' | grep -vE '^\./tests/unit/(dpdk|xdp)/' | grep -v '^\./build' \
      | grep -vE '^\./perf/gun/(xsk_port\.cpp|xdp_program\.cpp|gun_xdp\.bpf\.c)$' || true)
dp=$(grep -rlE '#include ["<](controlplane|drivers)/|#include <(yaml-cpp|tbb|oneapi)/' dataplane 2>/dev/null || true)
if [ -n "$bad$dp" ]; then
    [ -n "$bad" ] && printf 'DPDK/libbpf headers outside drivers/:\n%s\n' "$bad"
    [ -n "$dp" ] && printf 'dataplane/ reaching outside itself:\n%s\n' "$dp"
    exit 1
fi
echo "include boundaries hold"
