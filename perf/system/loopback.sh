#!/bin/sh
# End-to-end figure on one machine (docs/PERFORMANCE.md, "End to end"): starts idpathd from
# BUILD_DIR on loopback with the demo identifiers (configs/sample/identifiers.jsonl), runs
# idpath-gun from the same build against it with the given options, and stops idpathd.
# Loopback only; the run is bounded by idpath-gun's own --duration/--count.
#
# usage: perf/system/loopback.sh BUILD_DIR [idpath-gun options]
#   IDPATH_PORT   port to serve on (default 26441)
#   UDP_THREADS   idpathd's udp_threads (default 1)
#   SERVER        address the gun targets: 127.0.0.1 (default) or ::1
set -eu

build=${1:?usage: perf/system/loopback.sh BUILD_DIR [idpath-gun options]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${IDPATH_PORT:-26441}
server=${SERVER:-127.0.0.1}
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat > "$work/idpathd.yaml" <<YAML
node:
  id: loopback-bench
  role: authoritative
service:
  udp: ["127.0.0.1:$port", "[::1]:$port"]
  tcp: ["127.0.0.1:$port", "[::1]:$port"]
  udp_threads: ${UDP_THREADS:-1}
data:
  homed_prefixes: ["88.100.1", "88.200.7"]
  identifier_files: ["$root/configs/sample/identifiers.jsonl"]
admin:
  socket: "$work/idpathd.sock"
YAML

: > "$work/idpathd.log"
"$build/idpathd" --config "$work/idpathd.yaml" 2> "$work/idpathd.log" &
pid=$!
tries=0
until grep -q 'serving' "$work/idpathd.log"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "loopback.sh: idpathd did not start:" >&2
        cat "$work/idpathd.log" >&2
        exit 3
    fi
    sleep 0.1
done

case $server in *:*) target="[$server]:$port" ;; *) target="$server:$port" ;; esac
"$build/perf/gun/idpath-gun" "$@" "$target"
