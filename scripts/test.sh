#!/usr/bin/env bash
# Builds vkft with warnings as errors and runs the whole test suite on the default Vulkan device
# (lavapipe on a machine without a GPU) with the validation layer on.
#   scripts/test.sh              build/ : release build, all tests
#   scripts/test.sh --sanitize   build-asan/ : AddressSanitizer + UndefinedBehaviorSanitizer, all tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=build
flags=(-DVKFT_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags+=(-DVKFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  # Leaks inside the Vulkan driver, loader and validation layer are not ours to fix.
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer.supp:print_suppressions=0"
  export ASAN_OPTIONS="detect_odr_violation=0:abort_on_error=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
cd "$dir"
ctest -j"$jobs" --output-on-failure --timeout 1500
