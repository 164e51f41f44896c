#!/usr/bin/env bash
# Source files over a line budget, not counting an inline `#[cfg(test)]
# mod tests { … }` block at the end nor files that are test modules
# themselves (tests*.rs).
# Usage: scripts/file-sizes.sh [limit=400] [dir=src]
limit="${1:-400}"
dir="${2:-src}"
status=0
while IFS= read -r f; do
    case "$(basename "$f")" in tests*.rs | *_tests.rs) continue ;; esac
    # Lines before an inline `#[cfg(test)] mod name {` block (declarations
    # of test files, `#[cfg(test)] mod tests;`, count as code).
    n=$(awk 'prev ~ /^#\[cfg\(test\)\]/ && /^mod [a-z_0-9]+ \{/ { n--; exit }
             { n++; prev = $0 } END { print n + 0 }' "$f")
    if [ "$n" -gt "$limit" ]; then
        echo "$f: $n lines (limit $limit)"
        status=1
    fi
done < <(find "$dir" -name '*.rs' | sort)
exit "$status"
