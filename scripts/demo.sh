#!/usr/bin/env bash
# The main job on this machine: builds vkft, lists the Vulkan devices and runs the self-check (every
# kernel on the device against its CPU reference). Later this becomes a real fine-tuning demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target vkft
./build/vkft devices
./build/vkft selfcheck
./build/vkft bench dispatch --iters 50
