#!/bin/sh
# A non-root caller's --systemd-cgroup: its own systemd instance (user@UID,
# the user bus), inside `cgv2-vm --systemd`; prints "name: value" lines for
# systemd-cgroup.test.ts. BUNDLE is a rootless bundle the user owns.
# Usage: systemd-user-lane.sh OCITS USER_UID USER_GID BUNDLE ID
set -u
OCITS=$1 USER_UID=$2 USER_GID=$3 BUNDLE=$4 ID=$5
RUN=/run/user/$USER_UID
show() { echo "$1: $2"; }
as_user() {
  setpriv --reuid="$USER_UID" --regid="$USER_GID" --clear-groups \
    env -i PATH="$PATH" XDG_RUNTIME_DIR="$RUN" DBUS_SESSION_BUS_ADDRESS="unix:path=$RUN/bus" "$@"
}
o() { as_user "$OCITS" --systemd-cgroup "$@"; }
status() { o state "$ID" | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
UNIT=ocits-$ID.scope

systemctl start "user@$USER_UID.service"
show user.manager "$(systemctl show -p ActiveState --value "user@$USER_UID.service")"
o run --detach --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
show user.run $?
PID=$(o state "$ID" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
show user.cgroup "$(sed -n 's/^0:://p' /proc/"$PID"/cgroup)"
CG=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/"$PID"/cgroup)
show user.unit "$(as_user systemctl --user show -p ActiveState,MemoryMax,TasksMax "$UNIT" | sort | tr '\n' ' ')"
show user.files "$(cat "$CG/memory.max" "$CG/pids.max" | tr '\n' ' ')"
# exec's process is moved in by the user's systemd: the user may not move it itself.
# (Not through a pipe: the detached process would hold it open.)
o exec --detach --pid-file "/tmp/$ID-exec.pid" "$ID" sleep 1000 </dev/null >/dev/null 2>"/tmp/$ID-exec.err"
show user.exec "exit $? $(cat "/tmp/$ID-exec.err")"
show user.exec.cgroup "$(sed -n 's/^0:://p' /proc/"$(cat "/tmp/$ID-exec.pid")"/cgroup)"
o update --pids-limit 20 "$ID"
show user.updated "$(as_user systemctl --user show -p TasksMax --value "$UNIT") $(cat "$CG/pids.max")"
o pause "$ID"
show user.paused "$(status)"
o resume "$ID"
o kill --all "$ID" KILL
while [ "$(status)" != stopped ]; do sleep 0.1; done
o delete "$ID"
show user.deleted $?
show user.units.left "$(as_user systemctl --user list-units --all --no-legend --plain 'ocits-*')"
