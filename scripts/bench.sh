#!/usr/bin/env bash
# Side-by-side benchmark: monc vs the ceph CLI, ceph-monclient vs librados.
# Builds monc and monc-bench (release) and runs monc-bench, which starts its
# own 3-monitor cluster. Arguments go to monc-bench, e.g.:
#   scripts/bench.sh --quick          shorter run
#   scripts/bench.sh --json           machine-readable output
#   scripts/bench.sh -c CONF -k KEYRING   an existing cluster
#   scripts/bench.sh failover [--trials N] [--faults kill,stop,isolate] [--mon-lease S]
#                                     kill -9 / SIGSTOP of the serving monitor, or
#                                     cutting it off from its peers (isolate: needs
#                                     root and nftables), ceph-monclient vs
#                                     librados (~5 min)
#   CEPH_RELEASE=reef scripts/bench.sh --python "$PWD/scripts/release-python3.sh" failover ...
#                                     monitors and librados both from Reef's chroot
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

bash scripts/install-deps.sh >&2
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
target_dir=${CARGO_TARGET_DIR:-$repo/target}

echo "== building monc and monc-bench (release)" >&2
cargo build --release -p ceph-monc --bin monc -p monc-bench --bin monc-bench >&2

exec "$target_dir/release/monc-bench" --monc "$target_dir/release/monc" "$@"
