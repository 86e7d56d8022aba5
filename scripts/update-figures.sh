#!/usr/bin/env bash
# Copies generated figures into the documentation, so that every figure a
# reader sees comes from one measurement:
#
#   docs/figures/NAME.md                  the figure itself (committed)
#   every block between the markers
#     <!-- figures:NAME -->
#     <!-- /figures:NAME -->
#   in README.md, docs/*.md, labs/*.md    replaced by the figure
#
# `make figures` passes `make bench`'s table as `bench`; `make trace`
# passes its tables as `trace-totals`, `trace-parts`, `trace-steps-mono`
# and `trace-steps-micro`. A host test (grading,
# `figures_in_the_docs_are_the_generated_tables`) fails if a marked block
# differs from its docs/figures/NAME.md, so a figure edited by hand is
# caught.
#
#   update-figures.sh NAME FILE [NAME FILE]...
#   update-figures.sh FILE              (the same as: bench FILE)
set -euo pipefail
if [ $# -eq 1 ]; then
    set -- bench "$1"
fi
if [ $(( $# % 2 )) -ne 0 ] || [ $# -eq 0 ]; then
    echo "usage: update-figures.sh NAME FILE [NAME FILE]..." >&2
    exit 2
fi
pairs=()
while [ $# -gt 0 ]; do
    pairs+=("$1" "$(realpath "$2")")
    shift 2
done
cd "$(dirname "$0")/.."
mkdir -p docs/figures
set -- "${pairs[@]}"
while [ $# -gt 0 ]; do
    name=$1 source=$2
    shift 2
    cmp -s "$source" "docs/figures/$name.md" || cp "$source" "docs/figures/$name.md"
    for file in README.md docs/*.md labs/*.md; do
        grep -q "<!-- figures:$name -->" "$file" || continue
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
        ' "$file" > "$file.new"
        if cmp -s "$file.new" "$file"; then
            rm "$file.new"
        else
            mv "$file.new" "$file"
            echo "figures: updated $file ($name)"
        fi
    done
done
