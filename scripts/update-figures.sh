#!/usr/bin/env bash
# Copies the benchmark table `make bench` wrote into the documentation, so
# that every figure a reader sees comes from one measurement:
#
#   docs/figures/bench.md                 the table itself (committed)
#   docs/figures/bench.svg                the chart of the ratios, if given
#   every block between the markers
#     <!-- figures:bench -->
#     <!-- /figures:bench -->
#   in README.md and docs/*.md            replaced by the table
#   (each marker alone on its line: one quoted in a sentence is text)
#
# A host test (grading, `figures_in_the_docs_are_the_generated_table`)
# fails if a marked block differs from docs/figures/bench.md, so a figure
# edited by hand is caught.
#
#   update-figures.sh build/bench/figures.md [build/bench/ratios.svg]
set -euo pipefail
table=$(realpath "$1")
chart=${2:+$(realpath "$2")}
cd "$(dirname "$0")/.."
mkdir -p docs/figures
cp "$table" docs/figures/bench.md
if [ -n "$chart" ]; then
    cp "$chart" docs/figures/bench.svg
    echo "figures: updated docs/figures/bench.svg"
fi
for file in README.md docs/*.md; do
    grep -q '^<!-- figures:bench -->$' "$file" || continue
    awk -v table="docs/figures/bench.md" '
        /^<!-- figures:bench -->$/ {
            print
            while ((getline line < table) > 0) print line
            close(table)
            skipping = 1
            next
        }
        /^<!-- \/figures:bench -->$/ { skipping = 0 }
        !skipping { print }
        END { if (skipping) exit 1 }
    ' "$file" > "$file.new" || {
        rm -f "$file.new"
        echo "figures: $file has a figures:bench block without its end marker; left as it was" >&2
        exit 1
    }
    mv "$file.new" "$file"
    echo "figures: updated $file"
done
