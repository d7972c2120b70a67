#!/usr/bin/env bash
# Runs shellcheck on every shell script of the repository: *.sh, plus files with a bash or sh
# shebang under tools/ deploy/ .ci/ tests/ bench/. New files count as soon as they are not
# git-ignored. Sourced files are followed (-x) from the repository root.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
command -v shellcheck >/dev/null || {
  echo "shellcheck: not installed (Debian package shellcheck, in tools/debian-packages.txt)" >&2
  exit 1
}

scripts=()
while IFS= read -r -d '' file; do
  [[ -f $file ]] || continue
  if [[ $file == *.sh ]]; then
    scripts+=("$file")
  elif [[ $file == tools/* || $file == deploy/* || $file == .ci/* || $file == tests/* || $file == bench/* ]] &&
    head -n 1 -- "$file" | grep -qE '^#!.*([/ ]bash|/sh)([[:space:]]|$)'; then
    scripts+=("$file")
  fi
done < <(git ls-files --cached --others --exclude-standard -z)

((${#scripts[@]})) || {
  echo "shellcheck: no scripts found" >&2
  exit 1
}
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#scripts[@]} scripts:"
printf '  %s\n' "${scripts[@]}"
# two processes (the scripts are independent); xargs fails when any shellcheck run does
if ! printf '%s\0' "${scripts[@]}" | xargs -0 -n 5 -P 2 shellcheck -x; then
  echo "shellcheck: findings above" >&2
  exit 1
fi
echo "shellcheck: no findings"
