# A console-socket receiver for tests, like runc's contrib/cmd/recvtty:
# listens on a unix socket, takes one pty master over SCM_RIGHTS, prints the
# name sent with it on the first line, then copies the terminal's output to
# stdout until the container side closes it.
import os
import socket
import sys

path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
connection, _ = server.accept()
name, fds, _, _ = socket.recv_fds(connection, 4096, 1)
print(name.decode(), flush=True)
master = fds[0]
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: every holder of the terminal's other side is gone
        break
    if not chunk:
        break
    sys.stdout.write(chunk.decode(errors="replace"))
    sys.stdout.flush()
