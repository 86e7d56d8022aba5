#!/usr/bin/env bash
# Copies generated figures into the documentation, so that every figure a
# reader sees comes from one measurement:
#
#   docs/figures/NAME.md                  the figure itself (committed)
#   docs/figures/NAME.svg                 a chart that goes with it, if given
#   every block between the markers
#     <!-- figures:NAME -->
#     <!-- /figures:NAME -->
#   in README.md, docs/*.md, labs/*.md    replaced by the figure
#   (labs/*/*.md too; each marker alone on its line: one quoted in a
#   sentence is text)
#
# `make figures` passes `make bench`'s table as `bench` (and its chart);
# `make trace` passes its tables as `trace-totals`, `trace-parts`,
# `trace-steps-mono` and so on. A host test (grading,
# `figures_in_the_docs_are_the_generated_tables`) fails if a marked block
# differs from its docs/figures/NAME.md, so a figure edited by hand is
# caught.
#
#   update-figures.sh NAME FILE[:CHART.svg] [NAME FILE[:CHART.svg]]...
#   update-figures.sh FILE [CHART.svg]  (the same as: bench FILE:CHART.svg)
set -euo pipefail
if [ $# -ge 1 ] && [ $# -le 2 ] && [ -f "$1" ]; then
    set -- bench "$1${2:+:$2}"
fi
if [ $(( $# % 2 )) -ne 0 ] || [ $# -eq 0 ]; then
    echo "usage: update-figures.sh NAME FILE[:CHART.svg] [NAME FILE[:CHART.svg]]..." >&2
    exit 2
fi
pairs=()
while [ $# -gt 0 ]; do
    table=${2%%:*} chart=
    [ "$table" != "$2" ] && chart=$(realpath "${2#*:}")
    pairs+=("$1" "$(realpath "$table")" "$chart")
    shift 2
done
cd "$(dirname "$0")/.."
mkdir -p docs/figures
set -- "${pairs[@]}"
while [ $# -gt 0 ]; do
    name=$1 source=$2 chart=$3
    shift 3
    cmp -s "$source" "docs/figures/$name.md" || cp "$source" "docs/figures/$name.md"
    if [ -n "$chart" ]; then
        cp "$chart" "docs/figures/$name.svg"
        echo "figures: updated docs/figures/$name.svg"
    fi
    for file in README.md docs/*.md labs/*.md labs/*/*.md; do
        [ -f "$file" ] || continue
        grep -qx "<!-- figures:$name -->" "$file" || continue
        awk -v table="docs/figures/$name.md" -v begin="<!-- figures:$name -->" -v end="<!-- /figures:$name -->" '
            $0 == begin {
                print
                while ((getline line < table) > 0) print line
                close(table)
                skipping = 1
                next
            }
            $0 == end { skipping = 0 }
            !skipping { print }
            END { if (skipping) exit 1 }
        ' "$file" > "$file.new" || {
            rm -f "$file.new"
            echo "figures: $file has a figures:$name block without its end marker; left as it was" >&2
            exit 1
        }
        if cmp -s "$file.new" "$file"; then
            rm "$file.new"
        else
            mv "$file.new" "$file"
            echo "figures: updated $file ($name)"
        fi
    done
done
