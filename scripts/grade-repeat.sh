#!/bin/bash
# Grades the tree N times in a row and checks that every run scores the
# same: every suite (what `make grade` runs), then every lab with its
# hidden tests. One line per run; exits 1 if any score differs from the
# first run's (the grader is meant to be deterministic: a test that passes
# on one run and fails on the next is a bug in the test or the system).
#
#   scripts/grade-repeat.sh N LOG_DIR
set -uo pipefail
runs=${1:?usage: grade-repeat.sh N LOG_DIR}
logs=${2:?usage: grade-repeat.sh N LOG_DIR}
cd "$(dirname "$0")/.."
mkdir -p "$logs"
grade=(cargo run --release --quiet -p grading --bin grade --)
labs=$("${grade[@]}" labs) || exit 2
score() { grep -o 'Score: [0-9]*/[0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first=""
status=0
for run in $(seq 1 "$runs"); do
    line="suites=$("${grade[@]}" --kernel both > "$logs/run-$run.log" 2>&1; score "$logs/run-$run.log")"
    for lab in $labs; do
        "${grade[@]}" --kernel both --lab "$lab" --hidden > "$logs/run-$run-$lab.log" 2>&1
        line="$line $lab=$(score "$logs/run-$run-$lab.log")"
    done
    echo "run $run: $line"
    if [ -z "$first" ]; then
        first=$line
    elif [ "$line" != "$first" ]; then
        echo "grade-repeat: run $run differs from run 1 (logs in $logs)" >&2
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "grade-repeat: all $runs runs scored the same"
exit "$status"
