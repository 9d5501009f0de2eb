#!/usr/bin/env bash
# The CLI as a user runs it: devices (text and JSON), a bad device choice, selfcheck, the profiler,
# bench dispatch, and --help on every command. CTest sets VKFT (the binary) and VKFT_VALIDATION=1.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib_cli.sh"
out=$tmp

if "$VKFT" devices >"$out/devices.txt" 2>"$out/err.txt" && grep -q "<- chosen" "$out/devices.txt" \
   && grep -q "subgroups: size" "$out/devices.txt" && grep -q "memory heap 0" "$out/devices.txt"; then
  ok "vkft devices lists the chosen device with capabilities"
else bad "vkft devices: $(cat "$out/devices.txt" "$out/err.txt")"; fi

if "$VKFT" devices --json >"$out/devices.json" && /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
chosen = [x for x in d["devices"] if x["chosen"]]
assert len(chosen) == 1, chosen
c = chosen[0]
for k in ("name", "type", "vulkan_version", "subgroup", "arithmetic", "limits", "memory_heaps", "cooperative_matrix"):
    assert k in c, k
assert c["subgroup"]["size"] >= 1 and c["limits"]["max_workgroup_invocations"] >= 128
' "$out/devices.json"; then ok "vkft devices --json parses and has the capabilities"
else bad "vkft devices --json: $(head -c 400 "$out/devices.json")"; fi

VKFT_DEVICE=99 "$VKFT" devices >"$out/o.txt" 2>"$out/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "no Vulkan device matches VKFT_DEVICE=99" "$out/e.txt"; then
  ok "VKFT_DEVICE=99 fails (exit $rc) with: $(head -n1 "$out/e.txt")"
else bad "VKFT_DEVICE=99 gave exit $rc: $(cat "$out/e.txt")"; fi

"$VKFT" devices --device nosuchgpu >/dev/null 2>"$out/e.txt"; rc=$?
if [ $rc -ne 0 ] && grep -q "no Vulkan device matches --device=nosuchgpu" "$out/e.txt"; then ok "--device nosuchgpu fails"
else bad "--device nosuchgpu: exit $rc $(cat "$out/e.txt")"; fi

if VKFT_PROFILE=1 "$VKFT" selfcheck >"$out/self.txt" 2>"$out/prof.txt" && grep -q "0 failed" "$out/self.txt" \
   && grep -q "sum_f32" "$out/prof.txt" && grep -q "share" "$out/prof.txt"; then
  ok "selfcheck passes under validation; VKFT_PROFILE=1 prints the per-kernel table"
else bad "selfcheck: $(tail -n3 "$out/self.txt") $(cat "$out/prof.txt")"; fi

if "$VKFT" bench dispatch --iters 3 >"$out/bench.txt" && grep -q "100 dependent dispatches" "$out/bench.txt" \
   && grep -q "99 barriers" "$out/bench.txt"; then ok "bench dispatch runs"
else bad "bench dispatch: $(cat "$out/bench.txt")"; fi

for c in devices selfcheck bench; do
  if "$VKFT" $c --help >"$out/h.txt" && grep -q "usage: vkft $c" "$out/h.txt"; then ok "$c --help"
  else bad "$c --help"; fi
done
"$VKFT" --help | grep -q "usage: vkft COMMAND" && ok "vkft --help" || bad "vkft --help"
"$VKFT" nosuchcommand 2>/dev/null; [ $? -eq 2 ] && ok "unknown command exits 2" || bad "unknown command"

finish cli_devices
