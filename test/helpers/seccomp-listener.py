# A seccomp agent for tests: listens on a unix socket for the runtime's
# container process state with the notify fd (config-linux.md), prints what
# it received as one JSON line, then answers one notified syscall with
# EROFS, printing the syscall number and the calling pid as a second line.
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
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
connection, _ = server.accept()
payload = b""
fds = []
while True:
    chunk, received, _, _ = socket.recv_fds(connection, 65536, 4)
    fds += received
    if not chunk:
        break
    payload += chunk
connection.close()
notify = fds[0]
print(json.dumps({"state": json.loads(payload), "fdCount": len(fds),
                  "fdTarget": os.readlink(f"/proc/self/fd/{notify}")}), flush=True)

request = bytearray(80)
fcntl.ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, request, True)
notification_id, pid, _, nr = struct.unpack_from("<QIIi", request)
fcntl.ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("<QqiI", notification_id, 0, -EROFS, 0)), True)
print(json.dumps({"nr": nr, "pid": pid}), flush=True)
