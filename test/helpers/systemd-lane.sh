#!/bin/sh
# The systemd cgroup driver through bin/ocits --systemd-cgroup, inside
# `cgv2-vm --systemd` (systemd as PID 1, pure cgroup v2); prints
# "name: value" lines for systemd-cgroup.test.ts to check.
# Usage: systemd-lane.sh OCITS ROOT ID BUNDLE NESTED_BUNDLE BAD_PROPERTY_BUNDLE SIBLING_BUNDLE PRE_BUNDLE
#   BUNDLE: limits, a TimeoutStopSec annotation, default cgroupsPath, a block device not allowed
#   NESTED_BUNDLE: cgroupsPath ocitst-a-b.slice:ocitst:ID-nested
#   BAD_PROPERTY_BUNDLE: an org.systemd.property.* systemd does not know
#   SIBLING_BUNDLE: cgroupsPath ocitst-a-c.slice:ocitst:ID-sibling
#   PRE_BUNDLE: cgroupsPath ocitsp-x.slice:ocitst:ID-pre
set -u
OCITS=$1 ROOT=$2 ID=$3 BUNDLE=$4 NESTED=$5 BAD=$6 SIBLING=$7 PRE=$8
o() { "$OCITS" --root "$ROOT" --systemd-cgroup "$@"; }
show() { echo "$1: $2"; }
status() { o state "$1" | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
pid() { o state "$1" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
props() { systemctl show -p "$1" "$2" | sort | tr '\n' ' '; }
UNIT=ocits-$ID.scope

show features.systemd "$("$OCITS" features | grep -o '"systemd": [a-z]*')"

# The flag after the command, as engines may put it.
"$OCITS" --root "$ROOT" run --detach --systemd-cgroup --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
show run $?
PID=$(pid "$ID")
show unit.state "$(systemctl show -p ActiveState --value "$UNIT")"
# systemctl status lists the scope's processes, the container's init among them.
show unit.status.pid "$(systemctl status --no-pager "$UNIT" | grep -c -- "[─-]$PID ")"
show unit.props "$(props Slice,Delegate,MemoryMax,MemoryLow,MemoryHigh,TasksMax,CPUWeight,CPUQuotaPerSecUSec,IOWeight,DevicePolicy,TimeoutStopUSec "$UNIT")"
show proc.cgroup "$(cat /proc/"$PID"/cgroup)"
CG=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/"$PID"/cgroup)
for f in memory.max memory.low memory.high cpu.weight cpu.max pids.max io.weight; do show "created.$f" "$(head -n 1 "$CG/$f")"; done
# BUNDLE's linux.devices has /dev/ocits-sda, which no device rule allows.
show device.denied "$(o exec "$ID" head -c 1 /dev/ocits-sda 2>&1)"

o update --memory 128m --pids-limit 12 --cpu-share 2048 "$ID"
show update $?
show updated.props "$(props MemoryMax,TasksMax,CPUWeight "$UNIT")"
for f in memory.max pids.max cpu.weight; do show "updated.$f" "$(head -n 1 "$CG/$f")"; done

o pause "$ID"
show paused.status "$(status "$ID")"
o resume "$ID"
show resumed.status "$(status "$ID")"
show ps.json "$(o ps --format json "$ID")"
show procs "$(sort -n "$CG/cgroup.procs" | tr '\n' ' ')"
show stats.pids "$(o events --stats "$ID" | grep -o '"pids":{[^}]*}')"
o kill --all "$ID" KILL
while [ "$(status "$ID")" != stopped ]; do sleep 0.1; done
show killed.status "$(status "$ID")"
o delete "$ID"
show deleted $?
show units.left "$(systemctl list-units --all --no-legend --plain 'ocits-*')"
show cgroup.left "$(ls -d "$CG" 2>/dev/null)"

# create/start/delete in a nested slice
o create --bundle "$NESTED" "$ID-nested" </dev/null >/dev/null 2>&1
show nested.create $?
NPID=$(pid "$ID-nested")
show nested.cgroup "$(sed -n 's/^0:://p' /proc/"$NPID"/cgroup)"
show nested.slice "$(systemctl show -p Slice --value "ocitst-$ID-nested.scope")"
o start "$ID-nested"
show nested.status "$(status "$ID-nested")"
o delete --force "$ID-nested"
show nested.deleted $?
show nested.units.left "$(systemctl list-units --all --no-legend --plain "ocitst-$ID-nested.scope")"
slices() { systemctl list-units --all --no-legend --plain "$1" | awk '{print $1}' | tr '\n' ' '; }
active() { systemctl show -p ActiveState --value "$1"; }
show nested.slices.left "$(slices 'ocitst*.slice')"
show nested.system.slice "$(active system.slice)"

# A slice that was up before create stays up after delete, even when empty.
systemctl start ocitsp.slice
show pre.before "$(active ocitsp.slice)"
o run --detach --bundle "$PRE" "$ID-pre" </dev/null >/dev/null 2>&1
show pre.run $?
o delete --force "$ID-pre"
show pre.deleted $?
show pre.slices.left "$(slices 'ocitsp*.slice')"
show pre.after "$(active ocitsp.slice)"

# A slice that still holds another container's scope stays, and so does that container.
o create --bundle "$NESTED" "$ID-nested" </dev/null >/dev/null 2>&1
show shared.nested.create $?
o create --bundle "$SIBLING" "$ID-sibling" </dev/null >/dev/null 2>&1
show shared.sibling.create $?
o delete --force "$ID-nested"
show shared.nested.deleted $?
show shared.slices.left "$(slices 'ocitst*.slice')"
show shared.sibling.status "$(status "$ID-sibling")"
show shared.sibling.unit "$(active "ocitst-$ID-sibling.scope")"
o delete --force "$ID-sibling"
show shared.sibling.deleted $?
show shared.slices.after "$(slices 'ocitst*.slice')"
systemctl stop ocitst.slice ocitsp.slice

# A property systemd does not know is refused by name, and nothing stays.
show bad.create "$(o create --bundle "$BAD" "$ID-bad" 2>&1 </dev/null)"
show bad.left "$(ls -d "$ROOT/$ID-bad" 2>/dev/null; systemctl list-units --all --no-legend --plain "ocits-$ID-bad.scope")"
