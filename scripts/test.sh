#!/usr/bin/env bash
# Checks formatting and lints, runs every test of the workspace against
# Debian 12's Pacific monitors, then the real-monitor tests again against
# Reef (Ceph 18) and Tentacle (Ceph 20) monitors from Debian chroots.
# Debug profile: on 2 cores the release build costs more time than it saves
# (the slow tests wait on ceph-mon processes, not on our code).
#
# Environment: MONC_TEST_RELEASES (default "reef tentacle"; "" for Pacific
# only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
echo "== cargo fmt --check"
cargo fmt --all -- --check --color never
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

status=0
echo "== cargo test (Pacific, the host's Ceph)"
cargo test --workspace --no-fail-fast || status=$?

# The tests whose monitors (and reference `ceph` CLI) come from the chosen
# release: every real-monitor test; the long runs shorter than on Pacific
# (chaos 120 s, loaded soak 180 s, auth ticket TTL 30 s: ~9 min a release).
release_test_runs=(
  "-p ceph-testbed"
  "-p monc --test against_ceph --test errors --test tell_ping --test commands40 --test cli --test argparse_release"
  "-p ceph-monclient --test real_cluster --test global_id_reclaim --test osdmap_subscription --test cluster_log --test central_config"
  "-p ceph-monclient --test failover --test half_dead --test auth_real --test secure_mode --test chaos --test loaded_soak"
)
for release in ${MONC_TEST_RELEASES-reef tentacle}; do
  echo "== preparing Ceph $release"
  if ! bash scripts/ceph-release.sh "$release"; then
    echo "test: could not prepare $release" >&2
    status=1
    continue
  fi
  for run in "${release_test_runs[@]}"; do
    echo "== cargo test $run (CEPH_RELEASE=$release)"
    # shellcheck disable=SC2086 # the run is a list of words on purpose
    CEPH_RELEASE=$release CHAOS_SECS=120 SOAK_SECS=180 AUTH_REAL_TTL=30 \
      cargo test --no-fail-fast $run || status=$?
  done
done
exit "$status"
