#!/usr/bin/env bash
# vkft set-up: installs the build and test dependencies from the distribution's packages and
# provides a glslc that compiles GL_KHR_cooperative_matrix (see docs/toolchain.md).
# Idempotent; runs as root (or with sudo) on Debian 12, Debian 13 and Ubuntu 24.04.
#
#   scripts/setup.sh            install packages and prepare .toolchain/
#   scripts/setup.sh --toolchain-only   only prepare .toolchain/ (packages already present)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
toolchain="$here/.toolchain"
only_toolchain=0
[ "${1:-}" = "--toolchain-only" ] && only_toolchain=1

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

. /etc/os-release
codename="${VERSION_CODENAME:-unknown}"
say "system: ${PRETTY_NAME:-unknown}"

# The system's Debian mirror, read from its apt sources (deb822 or one-line format).
debian_mirror() {
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
        | grep -v security | sed -n 1p || true)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '{print $2}' | grep -v security | sed -n 1p || true)
  [ -n "$m" ] || m="http://deb.debian.org/debian"
  echo "$m"
}

packages=(build-essential cmake pkg-config git ca-certificates libvulkan-dev vulkan-tools
          mesa-vulkan-drivers vulkan-validationlayers libcjson-dev libstb-dev libpcre2-dev
          libutf8proc-dev libopenblas-dev python3-torch python3-numpy wordnet-base nodejs npm)

if [ "$only_toolchain" -eq 0 ]; then
  if [ "$codename" = "bookworm" ]; then
    # Mesa 22.3 gives lavapipe a 2 GiB heap; bookworm-backports has Mesa 25 (Vulkan 1.4).
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports"
      echo "deb $(debian_mirror) bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/vkft-backports.list >/dev/null
    fi
  fi
  say "apt-get update"
  $SUDO apt-get update -qq
  # Ubuntu and Debian 13 do not package nodejs+npm the same way; install what exists.
  avail=()
  for p in "${packages[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then avail+=("$p"); else say "not packaged here, skipped: $p"; fi
  done
  # nodejs from another source may already provide npm; don't fight it.
  if command -v npm >/dev/null 2>&1; then
    avail=("${avail[@]/npm}"); avail=("${avail[@]/nodejs}")
  fi
  say "installing: ${avail[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends ${avail[*]} >/dev/null
  if [ "$codename" = "bookworm" ]; then
    say "installing Mesa from bookworm-backports"
    $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
      mesa-vulkan-drivers >/dev/null
  fi
fi

# ---- glslc and Vulkan headers new enough for cooperative matrices -----------------------------
mkdir -p "$toolchain"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/coopmat.comp" <<'GLSL'
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
layout(binding = 0) buffer B { float16_t d[]; };
void main() {
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
  coopMatLoad(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatStore(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
GLSL
cat >"$probe_dir/bf16.comp" <<'GLSL'
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_bfloat16 : require
layout(local_size_x = 32) in;
layout(binding = 0) buffer B { bfloat16_t d[]; };
void main() {
  coopmat<bfloat16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
  coopMatLoad(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatStore(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
GLSL

compiles() { # compiles GLSLC FILE
  "$1" --target-env=vulkan1.3 -fshader-stage=compute -o "$probe_dir/out.spv" "$2" >/dev/null 2>&1
}

# A wrapper that starts an unpacked glslc through its own loader and libraries.
write_wrapper() { # write_wrapper ROOT OUT
  cat >"$2" <<W
#!/bin/sh
exec "$1/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$1/usr/lib/x86_64-linux-gnu" "$1/usr/bin/glslc" "\$@"
W
  chmod +x "$2"
}

# Download packages of SUITE with a private apt configuration and unpack them under ROOT.
unpack_suite() { # unpack_suite SUITE ROOT PKG...
  local suite=$1 root=$2; shift 2
  local state="$toolchain/apt-$suite"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$root"
  echo "deb $(debian_mirror) $suite main" >"$state/sources.list"
  local opts=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$state/lists" -o Dir::Cache::Archives="$state/cache/archives"
              -o Dir::Cache="$state/cache" -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || return 1
  (cd "$state/cache/archives" && apt-get "${opts[@]}" download "$@" >/dev/null 2>&1) || return 1
  local deb
  for deb in "$state/cache/archives"/*.deb; do dpkg -x "$deb" "$root"; done
}

# Candidates in order: the system's glslc, Debian trixie's (stable), Debian forky's (testing, the first
# with GL_EXT_bfloat16). A candidate scores 1 for cooperative matrices and 2 with bf16 ones too.
score() { # score GLSLC
  compiles "$1" "$probe_dir/coopmat.comp" || { echo 0; return; }
  if compiles "$1" "$probe_dir/bf16.comp"; then echo 2; else echo 1; fi
}
prepare_suite() { # prepare_suite SUITE -> prints wrapper path or nothing
  local suite=$1 root="$toolchain/$1"
  if [ ! -x "$root/usr/bin/glslc" ] || [ ! -f "$root/usr/include/vulkan/vulkan_core.h" ]; then
    unpack_suite "$suite" "$root" glslc libshaderc1 libc6 libstdc++6 libgcc-s1 libvulkan-dev || return 0
  fi
  write_wrapper "$root" "$toolchain/glslc-$suite"
  echo "$toolchain/glslc-$suite"
}

best=""; best_score=0; best_suite=""
if command -v glslc >/dev/null; then
  s=$(score "$(command -v glslc)")
  if [ "$s" -gt 0 ]; then best="$(command -v glslc)"; best_score=$s; best_suite=system; fi
fi
for suite in trixie forky; do
  [ "$best_score" -ge 2 ] && break
  say "glslc: trying Debian $suite's (unpacked into .toolchain/, not installed)"
  cand=$(prepare_suite "$suite")
  [ -n "$cand" ] || { say "glslc: could not download $suite's"; continue; }
  s=$(score "$cand")
  if [ "$s" -gt "$best_score" ]; then best="$cand"; best_score=$s; best_suite=$suite; fi
done
[ "$best_score" -gt 0 ] || die "no glslc that compiles GL_KHR_cooperative_matrix could be found or unpacked"
ln -sf "$best" "$toolchain/glslc"
glslc_choice="$toolchain/glslc"
say "glslc: $best_suite's ($best)"

# Vulkan headers from the same place as glslc, so that the C side knows the same extensions.
rm -f "$toolchain/include"
if [ "$best_suite" = system ]; then
  ln -sf /usr/include "$toolchain/include"
else
  ln -sf "$toolchain/$best_suite/usr/include" "$toolchain/include"
fi
say "vulkan headers: $best_suite's ($(grep -m1 '#define VK_HEADER_VERSION ' "$toolchain/include/vulkan/vulkan_core.h" | awk '{print $3}'))"

if [ "$best_score" -ge 2 ]; then
  say "glslc compiles bf16 cooperative matrices (GL_EXT_bfloat16)"
else
  say "glslc cannot compile GL_EXT_bfloat16: bf16 cooperative-matrix variants will not be built"
fi
"$glslc_choice" --version | sed -n "1s/^/[setup] /p" # sed reads it all: no SIGPIPE under pipefail
say "done"
