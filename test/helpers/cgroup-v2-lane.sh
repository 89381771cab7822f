#!/bin/sh
# One container's life on a pure cgroup v2 view, driven through bin/ocits;
# prints "name: value" lines for cgroup-containers-v2.test.ts to check. Runs
# in a private mount namespace with cgroup2 over /sys/fs/cgroup (LANE=fast:
# only hugetlb is available there) or inside cgv2-vm (LANE=vm: every
# controller). Usage: cgroup-v2-lane.sh LANE OCITS ROOT ID BUNDLE REFUSED_BUNDLE [OOM_BUNDLE]
# OOM_BUNDLE (vm lane): a container that waits for /go, then outgrows its memory limit.
set -u
LANE=$1 OCITS=$2 ROOT=$3 ID=$4 BUNDLE=$5 REFUSED=$6 OOM=${7:-}
o() { "$OCITS" --root "$ROOT" "$@"; }
show() { echo "$1: $2"; }
status() { o state "$ID" | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
frozen() { sed -n 's/^frozen //p' "$CG/cgroup.events"; }

o run --detach --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
show run $?
CG=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$(o state "$ID" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')/cgroup")
show cgroup "$CG"
if [ "$LANE" = fast ]; then
  show created.hugetlb "$(cat "$CG/hugetlb.2MB.max")"
  echo '{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}' | o update --resources - "$ID"
  show updated.hugetlb "$(cat "$CG/hugetlb.2MB.max")"
  show update.memory.error "$(o update --memory 64m "$ID" 2>&1)"
  show stats.hugetlb "$(o events --stats "$ID" | grep -o '"hugetlb":{"[0-9]*[KMG]B"' | head -n 1)"
else
  for f in memory.max memory.low cpu.weight cpu.max pids.max io.weight; do show "created.$f" "$(head -n 1 "$CG/$f")"; done
  o update --memory 128m --cpu-quota 50000 --pids-limit 12 --cpu-share 2048 "$ID"
  for f in memory.max cpu.max pids.max cpu.weight; do show "updated.$f" "$(head -n 1 "$CG/$f")"; done
  show stats.pids "$(o events --stats "$ID" | grep -o '"pids":{[^}]*}')"
fi

o pause "$ID"
show paused.status "$(status)"
show paused.freeze "$(cat "$CG/cgroup.freeze")"
show paused.frozen "$(frozen)"
o resume "$ID"
show resumed.status "$(status)"
show resumed.frozen "$(frozen)"

show ps.json "$(o ps --format json "$ID")"
show procs "$(sort -n "$CG/cgroup.procs" | tr '\n' ' ')"
o kill --all "$ID" KILL
while [ "$(status)" != stopped ]; do sleep 0.05; done
show killed.status "$(status)"
o delete "$ID"
show deleted $?
show left "$(ls -d "$CG" 2>/dev/null)"

show refused "$(o create --bundle "$REFUSED" "$ID-refused" 2>&1)"
show refused.left "$(ls -d "$ROOT/$ID-refused" "$(dirname "$CG")/$ID-refused" 2>/dev/null)"

if [ -n "$OOM" ]; then
  events=$(mktemp)
  o create --bundle "$OOM" "$ID-oom" </dev/null >/dev/null 2>&1
  # A bound only so a broken run ends before the VM's own limit; not a timing check.
  timeout 300 "$OCITS" --root "$ROOT" events --interval 100ms "$ID-oom" >"$events" &
  watcher=$!
  # The first stats line shows the watcher has read the OOM counter.
  until grep -q '"type":"stats"' "$events" || ! kill -0 $watcher 2>/dev/null; do sleep 0.1; done
  o start "$ID-oom"
  touch "$OOM/rootfs/go"
  wait # events ends once the container has died
  show oom "$(grep '"type":"oom"' "$events")"
  o delete "$ID-oom"
  show oom.deleted $?
fi
