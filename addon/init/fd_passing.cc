#include "fd_passing.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "safe.h"

namespace ocits::init {

namespace {

union ControlBuffer {
  char buffer[CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
};

struct msghdr MessageHeader(struct iovec* iov, ControlBuffer* control) {
  memset(control, 0, sizeof *control);
  struct msghdr message = {};
  message.msg_iov = iov;
  message.msg_iovlen = 1;
  message.msg_control = control->buffer;
  message.msg_controllen = sizeof control->buffer;
  return message;
}

}  // namespace

long SendWithFd(int socket, const void* data, size_t size, int fd) {
  struct iovec iov = {const_cast<void*>(data), size};
  ControlBuffer control;
  struct msghdr message = MessageHeader(&iov, &control);
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof fd);
  return OCITS_RETRY(sendmsg(socket, &message, MSG_NOSIGNAL));
}

long ReceiveWithFd(int socket, void* buffer, size_t size, int* fd) {
  struct iovec iov = {buffer, size};
  ControlBuffer control;
  struct msghdr message = MessageHeader(&iov, &control);
  *fd = -1;
  long count = OCITS_RETRY(recvmsg(socket, &message, MSG_CMSG_CLOEXEC));
  if (count < 0) return count;
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header != nullptr && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
    memcpy(fd, CMSG_DATA(header), sizeof *fd);
  }
  return count;
}

}  // namespace ocits::init
