#!/usr/bin/env bash
# CI's short fuzzing run (ctest `fuzz_short`, label fuzz): builds only the libFuzzer targets with
# clang in their own build directory, then runs each for FUZZ_SECONDS (10) from its seed corpus
# in tests/fuzz/corpus (copied: the run's findings do not change the repository). Exits 77
# (ctest: skipped) when clang is missing; non-zero when a target crashes or fails to build.
#   tests/fuzz/run_short.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: run_short.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-10}
targets=(fuzz_path_template fuzz_json_transcode fuzz_signature_headers)
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "clang not installed: fuzzing skipped"
  exit 77
fi
t0=$SECONDS
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ CCACHE_BASEDIR=$root cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREGSUITE_FUZZ=ON -DREGSUITE_BUILD_TESTS=OFF >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target "${targets[@]}" -j2 >"$build.build.log" 2>&1 || { tail -n 60 "$build.build.log"; exit 1; }
echo "fuzz targets built in $((SECONDS - t0)) s"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  cp "$root/tests/fuzz/corpus/$target"/* "$work/$target/"
  if "$build/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" "$work/$target" >"$work/$target.log" 2>&1; then
    echo "ok    $target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$work/$target.log" | tail -n 1)"
  else
    echo "FAIL  $target"
    tail -n 40 "$work/$target.log"
    status=1
  fi
done
exit "$status"
