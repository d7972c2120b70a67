#!/usr/bin/env bash
# Installs the Debian packages in tools/debian-packages.txt that are missing (apt-get, through
# sudo when not root). Fast no-op when everything is present.
# Usage: tools/install-deps.sh [PACKAGE_LIST]
set -euo pipefail

list=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/debian-packages.txt"}
mapfile -t packages < <(sed -e 's/#.*//' "$list" | tr -s '[:space:]' '\n' | grep -v '^$')
((${#packages[@]})) || {
  echo "install-deps: no packages listed in $list" >&2
  exit 1
}

# Prints the listed packages that dpkg does not know as installed.
missing_packages() {
  local -A installed=()
  local name status package
  while IFS=$'\t' read -r name status; do
    [[ $status == "install ok installed" ]] && installed[$name]=1
  done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${packages[@]}" 2>/dev/null || true)
  for package in "${packages[@]}"; do
    [[ -n ${installed[$package]:-} ]] || printf '%s\n' "$package"
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || {
    echo "install-deps: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi

for attempt in 1 2 3; do
  if "${sudo[@]}" apt-get update -q; then break; fi
  ((attempt < 3)) || exit 1
  echo "install-deps: apt-get update failed, retrying in $((attempt * 5)) s" >&2
  sleep $((attempt * 5))
done
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"

mapfile -t missing < <(missing_packages)
if ((${#missing[@]})); then
  echo "install-deps: still missing after apt-get install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: all ${#packages[@]} packages present"
