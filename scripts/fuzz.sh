#!/usr/bin/env bash
# Runs one cargo-fuzz target of fuzz/ for a while.
#
#   scripts/fuzz.sh TARGET [SECONDS]     (default 180 seconds)
#   scripts/fuzz.sh list                 (the targets)
#
# Builds on the stable toolchain (RUSTC_BOOTSTRAP=1 lets it take the
# nightly-only flags cargo-fuzz passes), in release mode with debug
# assertions and overflow checks. libFuzzer reports a crash, a leak, an
# RSS above 512 MB or a malloc above it (an allocation sized by a hostile
# length), and an input taking over 5 s, as a failure: the reproducer is
# written to fuzz/artifacts/TARGET/ and the script exits non-zero.
#
# Environment: FUZZ_SANITIZER (address | none; default address),
# FUZZ_JOBS (parallel workers, default 1), FUZZ_MAX_LEN (default per
# target), FUZZ_EXTRA (more libFuzzer flags).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

target="${1:-}"
if [ -z "$target" ] || [ "$target" = "list" ]; then
    cargo fuzz list
    exit 0
fi
seconds="${2:-180}"
sanitizer="${FUZZ_SANITIZER:-address}"

# Big enough for a whole recorded session (handshake), a monitor's command
# descriptions (command_table), or a few frames; small elsewhere so the
# fuzzer's time goes into structure rather than length.
case "$target" in
    handshake | command_table) default_max_len=131072 ;;
    frame) default_max_len=65536 ;;
    *) default_max_len=16384 ;;
esac
max_len="${FUZZ_MAX_LEN:-$default_max_len}"

corpus="corpus/$target"
mkdir -p "$corpus" "artifacts/$target"
seeds=()
if [ -d "seeds/$target" ]; then
    seeds=("seeds/$target")
fi

parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
    parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi

# shellcheck disable=SC2086
exec cargo fuzz run -O -a -s "$sanitizer" "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" \
    -max_len="$max_len" \
    -rss_limit_mb=512 \
    -malloc_limit_mb=512 \
    -timeout=5 \
    -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" \
    "${parallel[@]}" \
    ${FUZZ_EXTRA:-}
