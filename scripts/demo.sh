#!/usr/bin/env bash
# Demo: start a small whole cluster (3 monitors, a manager, 3 memstore OSDs,
# a pool) with the testbed and query it with `monc`.
# Usage: scripts/demo.sh [--hold]   (--hold: keep the cluster until Ctrl-C)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

hold=false
[[ ${1:-} == --hold ]] && hold=true

bash scripts/install-deps.sh
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
target_dir=${CARGO_TARGET_DIR:-$repo/target}

echo "== building testbed and monc (release)"
cargo build --release -p ceph-testbed --bin testbed
monc_built=true
cargo build --release -p ceph-monc --bin monc || monc_built=false

work=$(mktemp -d -t monc-demo-XXXXXX)
testbed_pid=""
cleanup() {
  if [[ -n $testbed_pid ]] && kill -0 "$testbed_pid" 2>/dev/null; then
    kill -TERM "$testbed_pid" 2>/dev/null || true
    wait "$testbed_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a cluster: 3 monitors, a manager, 3 memstore OSDs, a pool"
"$target_dir/release/testbed" up --mons 3 --mgr --osds 3 --pool demo --dir "$work" >"$work/testbed.log" 2>&1 &
testbed_pid=$!
for _ in $(seq 1 360); do
  grep -q '^testbed: ready' "$work/testbed.log" && break
  if ! kill -0 "$testbed_pid" 2>/dev/null; then
    cat "$work/testbed.log" >&2
    echo "demo: testbed exited before the cluster was ready" >&2
    exit 1
  fi
  sleep 0.5
done
if ! grep -q '^testbed: ready' "$work/testbed.log"; then
  cat "$work/testbed.log" >&2
  echo "demo: cluster not ready after 180 s" >&2
  exit 1
fi
cat "$work/testbed.log"

conf=$work/ceph.conf
keyring=$work/ceph.client.admin.keyring
monc=$target_dir/release/monc
status=0
if $monc_built; then
  echo "== monc status"
  "$monc" -c "$conf" -k "$keyring" status || status=$?
  echo "== monc mon dump"
  "$monc" -c "$conf" -k "$keyring" mon dump || status=$?
else
  echo "demo: monc did not build; showing the reference CLI instead" >&2
  ceph -c "$conf" -k "$keyring" --connect-timeout 10 -s || true
  status=1
fi

cat <<USAGE

== how to use it
The cluster lives until this script exits (run with --hold to keep it). Against it:
  $monc -c $conf -k $keyring status
  CEPH_CONF=$conf $monc status
Start your own:  $target_dir/release/testbed up --mons 3 --mgr --osds 3 --dir DIR   (Ctrl-C stops it)
USAGE

if $hold; then
  echo "demo: holding the cluster; Ctrl-C to stop"
  wait "$testbed_pid" || true
fi
exit "$status"
