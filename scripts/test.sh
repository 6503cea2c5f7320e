#!/usr/bin/env bash
# The test suite, ring by ring (see the README's "Tests"):
#
#   ring 1-2  `cargo test --workspace`: unit tests, corpus, recorded sessions,
#             simulated time, fake in-process monitors, hostile bytes. Needs
#             no Ceph at all.
#   ring 3    the test targets that need real Ceph (monitors started by
#             ceph-testbed, the `ceph` CLI, Ceph's Python modules). Each is
#             declared in its crate's Cargo.toml with
#             `required-features = ["real-ceph"]`, so it is built and run only
#             with `--features real-ceph`. Run here on the host's Ceph
#             (Pacific on Debian 12), then Reef and Tentacle from chroots, the
#             long runs shortened.
#   ring 4    the long runs (`long` under [package.metadata.monc-tests] in a
#             crate's Cargo.toml) at full length, on every release: --long.
#
#   bash scripts/test.sh          formatting, lints, rings 1-3: the CI run
#   bash scripts/test.sh --long   ring 4
#
# Ring 3 and 4 run each test binary of each release as one job, up to
# MONC_TEST_JOBS (default 4) at a time across releases: the monitors mostly
# wait, and the testbed picks free ports. A target listed as `alone` in the
# metadata (it loads every CPU on purpose) runs afterwards with nothing beside
# it. A job's output is printed whole when it ends; a table of times per ring
# and release ends the run. The exit status is non-zero if any part failed.
#
# Environment: MONC_TEST_RELEASES (default "reef tentacle"; "" for the host's
# Ceph only), MONC_TEST_JOBS, MONC_TEST_TARGETS (ring 3/4 test binaries to run,
# e.g. "cli chaos"; default all). Debug profile: on 2 cores the release build
# costs more time than it saves (the slow tests wait on ceph-mon processes,
# not on our code).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: $0 [--long]" >&2
  exit 2
}
mode=ci
case ${1-} in
"") ;;
--long) mode=long ;;
*) usage ;;
esac
(($# <= 1)) || usage

# Lengths of the long runs in CI (ring 3). Each test reads its own variable
# and runs at full length (ring 4) without it. A new long run adds its
# variable here and its name to `long` in its crate's Cargo.toml.
short_runs=(
  "CHAOS_SECS=${CHAOS_SECS:-60}"       # chaos: 300 s at full length
  "SOAK_SECS=${SOAK_SECS:-60}"         # loaded_soak: 600 s
  "AUTH_REAL_TTL=${AUTH_REAL_TTL:-30}" # auth_real: five ticket TTLs of 60 s
  "CHAOS_V1_SECS=${CHAOS_V1_SECS:-15}"         # chaos_v1 (msgr1): 300 s
  "AUTH_REAL_V1_TTL=${AUTH_REAL_V1_TTL:-12}"   # auth_real_v1 (msgr1): TTLs of 60 s
  "FAILOVER_V1_SHORT=${FAILOVER_V1_SHORT:-1}"  # failover_v1 (msgr1): kill, stop, dead address only
  "LOAD_COMMANDS=${LOAD_COMMANDS:-50000}" # load: 200,000 commands at once
)

# shellcheck disable=SC2206 # a list of words on purpose
chroot_releases=(${MONC_TEST_RELEASES-reef tentacle})
max_jobs=${MONC_TEST_JOBS:-4}
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

status=0
run_started=$SECONDS
# Rows of the closing table: "label|seconds|result|note".
table=()
row() { table+=("$1|$2|$3|${4-}"); }
result_of() { if (($1 == 0)); then echo ok; else echo "FAILED ($1)"; fi; }

# Runs a command as one row of the table.
step() {
  local label=$1 t0=$SECONDS rc=0
  shift
  echo "== $label"
  "$@" || rc=$?
  row "$label" $((SECONDS - t0)) "$(result_of $rc)"
  ((rc == 0)) || status=1
  return $rc
}

print_table() {
  local line label secs result note
  echo
  echo "== times (${mode} run, MONC_TEST_JOBS=$max_jobs; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
  for line in "${table[@]}"; do
    IFS='|' read -r label secs result note <<<"$line"
    printf '%-44s %6s s  %-12s %s\n' "$label" "$secs" "$result" "$note"
  done
  printf '%-44s %6s s  %s\n' "total" $((SECONDS - run_started)) "$(result_of $status)"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/monc-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One apt-get for everything (two at once fail on apt's lock): debootstrap
# too when chroot releases are wanted, so their builds below need no apt.
extra_packages=()
((${#chroot_releases[@]})) && extra_packages=(debootstrap)
if ! step "install-deps" bash scripts/install-deps.sh "${extra_packages[@]}"; then
  print_table
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi

# The chroot releases build in the background (network and disk, little
# CPU) while the host's tests run; each writes its time and status to files.
declare -A prepare_pid
for release in "${chroot_releases[@]}"; do
  (
    t0=$SECONDS
    rc=0
    bash scripts/ceph-release.sh "$release" || rc=$?
    echo "$((SECONDS - t0)) $rc" >"$work/prepare-$release.done"
    exit "$rc"
  ) >"$work/prepare-$release.log" 2>&1 &
  prepare_pid[$release]=$!
done

# Waits for the chroot of each release; prints which are ready.
wait_for_releases() {
  local release secs rc
  for release in "${chroot_releases[@]}"; do
    wait "${prepare_pid[$release]}"
    echo "== prepare $release (in the background)"
    cat "$work/prepare-$release.log"
    read -r secs rc <"$work/prepare-$release.done" || { secs=? rc=1; }
    row "prepare $release (in the background)" "$secs" "$(result_of "$rc")"
    if ((rc == 0)); then
      echo "$release"
    else
      echo "test: could not prepare $release" >&2
      status=1
    fi >>"$work/ready"
  done
}

# The test targets behind the real-ceph feature, one per line:
# "NAME LONG ALONE" (LONG and ALONE are 0 or 1), from the crates' manifests.
real_targets() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for pkg in json.load(sys.stdin)["packages"]:
    meta = (pkg.get("metadata") or {}).get("monc-tests") or {}
    for t in pkg["targets"]:
        if "test" in t["kind"] and "real-ceph" in (t.get("required-features") or []):
            print(t["name"], int(t["name"] in meta.get("long", [])), int(t["name"] in meta.get("alone", [])))
'
}

# One job: test binary $2 against release $1, output in $3.
run_job() {
  local release=$1 target=$2 env=(CEPH_RELEASE="$1")
  [[ $mode == ci ]] && env+=("${short_runs[@]}")
  env "${env[@]}" REQUIRE_CEPH_ARGPARSE=1 \
    cargo test --workspace --features real-ceph --no-fail-fast --test "$target"
}

# Runs the jobs "RELEASE TARGET ALONE" of stdin: the others up to $max_jobs
# at a time, in order, then each ALONE one by itself. Adds a row per release.
#
# In the CI run a job that fails is run once more, at once, and fails the run
# only if it fails again: real daemons on a loaded 2-core machine now and
# then do what no test can prevent (a Ceph daemon aborting in its own code,
# a log line from one of `ceph`'s threads). Both outputs are printed, and the
# job is named as flaky in its release's row, so nothing is hidden. The long
# ring (--long) runs each job once.
run_jobs() {
  local -a queue=() alone_queue=()
  local line release target alone
  while read -r release target alone; do
    if ((alone)); then
      alone_queue+=("$release $target")
    else
      queue+=("$release $target")
    fi
  done
  declare -A job_name=() job_start=() jobs_secs=() jobs_count=() span_start=() span_end=() failed=()
  declare -A rerun=() flaky=()
  local n=0 pid done_pid rc secs log
  launch() {
    n=$((n + 1))
    log=$work/job-$n.log
    run_job "$1" "$2" >"$log" 2>&1 &
    pid=$!
    job_name[$pid]="$1 $2 $log"
    job_start[$pid]=$SECONDS
    [[ -n ${span_start[$1]-} ]] || span_start[$1]=$SECONDS
    echo "-- started: $2 on $(release_label "$1")"
  }
  reap() {
    done_pid=
    rc=0
    wait -n -p done_pid "${!job_name[@]}" || rc=$?
    read -r release target log <<<"${job_name[$done_pid]}"
    secs=$((SECONDS - job_start[$done_pid]))
    unset "job_name[$done_pid]"
    echo "== ring $ring job: $target on $(release_label "$release"): $(result_of $rc) in $secs s"
    cat "$log"
    jobs_secs[$release]=$((${jobs_secs[$release]-0} + secs))
    jobs_count[$release]=$((${jobs_count[$release]-0} + 1))
    span_end[$release]=$SECONDS
    echo "$secs $release $target" >>"$work/job-times"
    if ((rc != 0)) && [[ $mode == ci && -z ${rerun["$release $target"]-} ]]; then
      rerun["$release $target"]=1
      echo "== ring $ring job: $target on $(release_label "$release") failed; running it once more"
      launch "$release" "$target"
    elif ((rc != 0)); then
      failed[$release]="${failed[$release]-} $target"
      jobs_failed=1
    elif [[ -n ${rerun["$release $target"]-} ]]; then
      flaky[$release]="${flaky[$release]-} $target"
    fi
  }
  local job
  for job in "${queue[@]}"; do
    while ((${#job_name[@]} >= max_jobs)); do reap; done
    # shellcheck disable=SC2086 # "release target"
    launch $job
  done
  while ((${#job_name[@]})); do reap; done
  for job in "${alone_queue[@]}"; do
    # shellcheck disable=SC2086
    launch $job
    # (A second run, if the first fails, also runs alone.)
    while ((${#job_name[@]})); do reap; done
  done
  local r label
  for r in "${releases[@]}"; do
    [[ -n ${span_start[$r]-} ]] || continue
    label="ring $ring $(release_label "$r")"
    row "$label" $((span_end[$r] - span_start[$r])) \
      "$(if [[ -n ${failed[$r]-} ]]; then echo FAILED; else echo ok; fi)" \
      "${jobs_count[$r]} jobs, ${jobs_secs[$r]} s${failed[$r]:+; failed:${failed[$r]}}${flaky[$r]:+; flaky (failed, then passed):${flaky[$r]}}"
  done
}

# The host's release codename (e.g. pacific), for labels.
host=$(ceph-mon --version 2>/dev/null | awk '{print $(NF-1)}')
host=${host:-host}
release_label() { if [[ $1 == host ]]; then echo "$host"; else echo "$1"; fi; }

if [[ $mode == ci ]]; then
  step "cargo fmt --check" cargo fmt --all -- --check --color never
  # With the feature: every target, ring 3's included.
  step "cargo clippy (--features real-ceph)" \
    cargo clippy --workspace --all-targets --features real-ceph -- -D warnings
  step "ring 1-2 (cargo test --workspace)" cargo test --workspace --no-fail-fast
  step "rust-version (scripts/check-msrv.sh)" bash scripts/check-msrv.sh
  step "cargo doc (-D warnings)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace
  # Every published crate packaged and built from its package alone (the
  # unpublished path dependencies come from a local registry cargo makes).
  # Cargo takes registry packages as immutable: what it unpacked from that
  # registry (under CARGO_HOME) and built from it (in the target directory)
  # is reused for the same version, so an earlier run's code would be
  # verified instead of today's. Remove both first; the verification builds
  # in a target directory of its own so that only it loses our crates.
  verify_target=target/package-verify
  rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ceph-{denc,types,osdmap,auth,msgr,config,argparse,monclient,daemonclient,monc}-[0-9]* \
    "$verify_target"/debug/.fingerprint/ceph-* "$verify_target"/debug/deps/*ceph_* \
    "$verify_target"/package/ceph-*
  step "cargo package (published crates, verified)" \
    env CARGO_TARGET_DIR="$verify_target" cargo package --workspace --locked --allow-dirty \
    --exclude monc-bench --exclude ceph-testbed --exclude ceph-fakemon
fi

mapfile -t targets < <(real_targets)
if ((${#targets[@]} == 0)); then
  echo "test: no test target needs the real-ceph feature?" >&2
  status=1
fi
ring=3
[[ $mode == long ]] && ring=4
selected=()
for line in "${targets[@]}"; do
  read -r target long alone <<<"$line"
  [[ $mode == long && $long == 0 ]] && continue
  [[ -z ${MONC_TEST_TARGETS-} || " $MONC_TEST_TARGETS " == *" $target "* ]] || continue
  selected+=("$target $long $alone")
done
test_args=()
for line in "${selected[@]}"; do test_args+=(--test "${line%% *}"); done

ring_done=0
if ((${#selected[@]})) && step "ring $ring build (--features real-ceph)" \
  cargo test --workspace --features real-ceph --no-run "${test_args[@]}"; then
  wait_for_releases
  releases=(host)
  touch "$work/ready"
  mapfile -t -O 1 releases <"$work/ready"
  # Long runs first (the longest jobs), each on every release in turn.
  for line in "${selected[@]}"; do
    read -r target long alone <<<"$line"
    ((long)) || continue
    for release in "${releases[@]}"; do echo "$release $target $alone"; done
  done >"$work/jobs"
  for line in "${selected[@]}"; do
    read -r target long alone <<<"$line"
    ((long)) && continue
    for release in "${releases[@]}"; do echo "$release $target $alone"; done
  done >>"$work/jobs"
  echo "== ring $ring: $(wc -l <"$work/jobs") jobs, $max_jobs at a time, on ${releases[*]} (host = $host)"
  t0=$SECONDS
  jobs_failed=0
  run_jobs <"$work/jobs" || jobs_failed=1
  row "ring $ring (all releases, wall clock)" $((SECONDS - t0)) "$(result_of $jobs_failed)"
  ((jobs_failed == 0)) || status=1
  ring_done=1
  echo
  echo "== slowest jobs (seconds, release, test binary)"
  sort -rn "$work/job-times" | head -n 12
else
  wait_for_releases
fi
if ((ring_done == 0)); then
  echo "test: ring $ring did not run" >&2
  status=1
fi

print_table
exit "$status"
