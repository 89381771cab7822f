// Passing one fd over a unix socket (SCM_RIGHTS) with a payload. Only
// sendmsg/recvmsg on caller-owned memory: safe in the cloned child and in Node.
#pragma once
#include <stddef.h>

namespace ocits::init {

// One sendmsg(2) carrying data and fd; returns the bytes sent or -1 (errno).
long SendWithFd(int socket, const void* data, size_t size, int fd);

// One recvmsg(2) into buffer; *fd is the fd that came with it (close-on-exec)
// or -1. Returns the bytes received or -1 (errno).
long ReceiveWithFd(int socket, void* buffer, size_t size, int* fd);

}  // namespace ocits::init
