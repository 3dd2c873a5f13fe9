#!/usr/bin/env bash
# Builds every Lambda function as `sam build` does (`cargo lambda build
# --release --arm64`; zig cross-compiles, no Docker) and checks that each
# bootstrap stays under 8 MB (a bigger binary is a slower cold start).
# Installs what is missing: cargo-lambda and ziglang into ./.venv (PyPI), the
# rustup target aarch64-unknown-linux-gnu.
#   scripts/lambda-build.sh
#   CARGO_TARGET_DIR=target-lambda scripts/lambda-build.sh   # another target dir
# LAMBDA_MAX_BYTES overrides the limit.
set -euo pipefail
cd "$(dirname "$0")/.."

functions=(checkout webhooks admin fulfil expire reconcile credits dispatch deliver)
want="cargo-lambda==1.9.2 ziglang==0.13.0.post1"
target=aarch64-unknown-linux-gnu
max_bytes=${LAMBDA_MAX_BYTES:-$((8 * 1024 * 1024))}
target_dir=${CARGO_TARGET_DIR:-target}
stamp=.venv/.lambda-tools

say() { printf '\n== %s\n' "$*"; }

if [[ ! -x .venv/bin/pip ]]; then
  scripts/venv.sh
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  say "installing $want into ./.venv"
  .venv/bin/pip install --quiet --disable-pip-version-check $want
  echo "$want" >"$stamp"
fi
# cargo-lambda finds zig as `python3 -m ziglang`: the venv's python first.
export PATH="$PWD/.venv/bin:$PATH"

if ! rustup target list --installed | grep -qx "$target"; then
  say "adding the rustup target $target"
  rustup target add "$target"
fi

say "cargo lambda build --release --arm64 (${functions[*]}) into $target_dir"
start=$SECONDS
packages=()
for f in "${functions[@]}"; do packages+=(--package "$f"); done
CARGO_TARGET_DIR="$target_dir" cargo lambda build --release --arm64 "${packages[@]}"
echo "built in $((SECONDS - start)) s"

say "bootstrap sizes (limit $max_bytes bytes)"
too_big=0
for f in "${functions[@]}"; do
  bin="$target_dir/lambda/$f/bootstrap"
  if [[ ! -f "$bin" ]]; then
    echo "missing: $bin" >&2
    too_big=1
    continue
  fi
  bytes=$(stat -c %s "$bin")
  awk -v f="$f" -v b="$bytes" 'BEGIN { printf "%-10s %10d bytes  %5.1f MB\n", f, b, b / 1048576 }'
  if ((bytes > max_bytes)); then
    echo "  over the limit: $bin" >&2
    too_big=1
  fi
done
exit "$too_big"
