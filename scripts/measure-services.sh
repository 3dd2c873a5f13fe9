#!/usr/bin/env bash
# Figures for the services layer's shape (issue 15): lines, files that spell
# storage details outside store/, retry and cursor loops, positional
# condition decoding. Usage: scripts/measure-services.sh [DIR]
# (default shared/src/services; for an old commit:
#  git archive REV shared/src/services | tar -x -C /tmp/old && scripts/measure-services.sh /tmp/old/shared/src/services)
set -euo pipefail
d=${1:-shared/src/services}
mapfile -t files < <(find "$d" -name '*.rs' ! -name 'tests.rs' ! -name '*_tests.rs' ! -path '*/tests/*')
mapfile -t outside < <(printf '%s\n' "${files[@]}" | grep -v '/store/')
echo "lines: $(cat "${files[@]}" | wc -l)"
echo "files naming GSI1PK/GSI1SK/Change:: outside store/: $(grep -lE 'GSI1PK|GSI1SK|Change::(Set|Add|Remove)' "${outside[@]}" | wc -l)"
echo "Change:: calls outside store/: $(grep -hoE 'Change::(Set|Add|Remove)' "${outside[@]}" | wc -l)"
echo "retry loops: $(grep -hE 'for _ in 0\.\.|for attempt in 0' "${files[@]}" | wc -l)"
echo "cursor loops (page.next): $(printf '%s\n' "${files[@]}" | grep -v 'store/pages.rs' | xargs grep -hE 'page\.next\b' | grep -vc next_cursor || true)"
echo "positional condition decoding: $(grep -hE 'ConditionFailed \{ index|Err\([0-9]\)|index: [0-9]' "${files[@]}" | wc -l)"
