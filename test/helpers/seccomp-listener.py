# A seccomp agent for tests: listens on a unix socket for the runtime's
# container process state with the notify fd (config-linux.md), prints what
# it received as one JSON line (for each of argv[2] connections, default
# one), then answers one notified syscall of the last with
# EROFS, printing the syscall number and the calling pid as a second line.
# It reads until the JSON is complete rather than until the runtime closes
# the connection: runc 1.1 keeps it open until the container exits.
import fcntl
import json
import os
import socket
import struct
import sys

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
EROFS = 30

path = sys.argv[1]
# How many runtime connections to take (create's, then exec's): the
# notification answered is one of the last process's.
connections = int(sys.argv[2]) if len(sys.argv) > 2 else 1
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
for _ in range(connections):
    connection, _ = server.accept()
    payload = b""
    fds = []
    state = None
    while state is None:
        chunk, received, _, _ = socket.recv_fds(connection, 65536, 4)
        fds += received
        if not chunk:
            sys.exit("the connection closed before the state was complete")
        payload += chunk
        try:
            state = json.loads(payload)
        except json.JSONDecodeError:
            pass
    connection.close()
    notify = fds[0]
    print(json.dumps({"state": state, "fdCount": len(fds),
                      "fdTarget": os.readlink(f"/proc/self/fd/{notify}")}), flush=True)

request = bytearray(80)
fcntl.ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, request, True)
notification_id, pid, _, nr = struct.unpack_from("<QIIi", request)
fcntl.ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("<QqiI", notification_id, 0, -EROFS, 0)), True)
print(json.dumps({"nr": nr, "pid": pid}), flush=True)
