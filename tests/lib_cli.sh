# Shared by the CLI test scripts (sourced, not run): the binary, the source folder, the PyTorch
# interpreter, a temporary folder removed at exit, and ok/bad counters with the closing line.
VKFT=${VKFT:-build/vkft}
SRC=${VKFT_SOURCE_DIR:-.}
PY=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # check NAME COMMAND...: ok when the command succeeds
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
same() { [ "$1" == "$2" ] || { echo "  want: $2"; echo "  got:  $1"; return 1; }; }
finish() { # finish NAME: prints "NAME: N passed, M failed" and sets the exit status
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
