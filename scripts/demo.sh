#!/usr/bin/env bash
# cryo's main job: start a sample process tree, checkpoint it to disk, restore it, and
# show that it continues where it stopped. Ends what it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
cryo() { bin/cryo "$@"; }

work=$(mktemp -d /tmp/cryo-demo.XXXXXX)
pid=
restored=
cleanup() {
  for p in $restored $pid; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# a two-process tree joined by a pipe: a counter that keeps its state only in memory
cat >"$work/counter.sh" <<'SH'
n=0
while :; do n=$((n + 1)); echo "tick $n"; sleep 0.2; done | while read -r line; do echo "$line (pid $$)"; done
SH

# the counter's last line (anything else in the log, e.g. a message from a tool, is not a tick)
last_tick() { grep '^tick' "$work/out.log" | tail -n 1 || true; }

pid=$(cryo run --log "$work/out.log" -- sh "$work/counter.sh")
echo "started tree $pid"
sleep 1.5
echo "before dump: $(last_tick)"

cryo dump "$pid" -D "$work/ckpt" --json >"$work/dump.json"
echo "dumped into $work/ckpt: $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(`frozen ${r.stats?.frozen_time ?? "?"} us, ${r.wallMs} ms wall`)' "$work/dump.json")"
last=$(last_tick)
pid=
sleep 1
[ "$(last_tick)" = "$last" ] && echo "the tree is gone; the log stopped at: $last"

restored=$(cryo restore -D "$work/ckpt")
echo "restored tree $restored"
sleep 1.5
now=$(last_tick)
echo "after restore: $now"
before=${last#tick }; before=${before%% *}
after=${now#tick }; after=${after%% *}
if [ "$after" -gt "$before" ] && [ "$after" -lt $((before + 20)) ]; then
  echo "ok: the counter went on from $before to $after"
else
  echo "FAILED: counter did not continue ($before -> $after)" >&2
  exit 1
fi
