#!/usr/bin/env bash
# Fuzzes the webhook verifiers+parsers and the checkout body parser
# (fuzz/fuzz_targets) for SECONDS each (default 20: the CI smoke), failing on
# any crash: a panic, an allocation over the heap budget, RSS over 512 MB, or
# one input taking over 10 s. Crashing inputs land in fuzz/artifacts/<target>.
#
# Stable Rust: `--sanitizer none` passes no -Z flag (the coverage hooks are
# stable -C flags); there is no ASan, which safe code does not need, and the
# fuzz crate's own allocator stands in for libFuzzer's -malloc_limit_mb.
#
# cargo-fuzz is installed into ./.tools when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
targets=(nowpayments stripe checkout_body)
cargo_fuzz_version=0.13.2
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"

export PATH="$PWD/.tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz $cargo_fuzz_version into ./.tools"
    cargo install cargo-fuzz --locked --version "$cargo_fuzz_version" --root .tools
fi

opts=(--fuzz-dir fuzz --sanitizer none --target-dir "$target_dir")
cargo fuzz build "${opts[@]}"

mkdir -p "$target_dir/logs"
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    log="$target_dir/logs/$t.log"
    echo "fuzzing $t for ${secs}s (log: $log)"
    # Writes new inputs to fuzz/corpus/<t>, reads the checked-in seeds too.
    # -max_len: a little over the 256 KiB body limit (plus the header line).
    if ! cargo fuzz run "${opts[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -max_len=263000 -rss_limit_mb=512 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $t FAILED: input saved under fuzz/artifacts/$t" >&2
        exit 1
    fi
    # The last status line: #execs, cov (edges), ft (features), corp (units/size).
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    echo "  $t: $last | ${rate} exec/s | peak RSS ${rss} MB"
done
echo "fuzzing: no crash in ${targets[*]}"
