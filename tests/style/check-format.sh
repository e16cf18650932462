#!/bin/sh
# Lists every tracked C file that clang-format would reformat, with the diff.
set -u
root=${1:?source root}
fmt=${CLANG_FORMAT:-clang-format}
if ! command -v "$fmt" >/dev/null 2>&1; then
	echo "clang-format not found: install it (apt-get install clang-format) to check style"
	exit 77
fi
cd "$root" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
else
	files=$(find . -name '*.[ch]' -not -path './build*')
fi
# One clang-format process for the whole tree (fast on a busy machine); the
# per-file pass below runs only when something needs formatting.
# shellcheck disable=SC2086
if "$fmt" --style=file --dry-run --Werror $files >/dev/null 2>&1; then
	echo "0 file(s) need formatting"
	exit 0
fi
bad=0
for f in $files; do
	[ -f "$f" ] || continue
	if ! "$fmt" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (fix: $fmt -i $f)"
		"$fmt" --style=file "$f" | diff -u "$f" - | head -40
		bad=$((bad + 1))
	fi
done
echo "$bad file(s) need formatting"
[ "$bad" -eq 0 ]
