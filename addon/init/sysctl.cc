#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "rootfs.h"
#include "safe.h"

namespace ocits::init {

void WriteSysctls(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.sysctl_count; ++i) {
    const Sysctl& sysctl = plan.sysctls[i];
    int fd = OpenInRoot(root, sysctl.path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) Fail(socket, kStepSysctl, (int)i, -fd, sysctl.path);
    // The rootfs could hold a plain file where proc should be mounted.
    struct statfs filesystem;
    if (fstatfs(fd, &filesystem) != 0) Fail(socket, kStepSysctl, (int)i, errno, sysctl.path);
    if (filesystem.f_type != PROC_SUPER_MAGIC) Fail(socket, kStepSysctl, (int)i, 0, "not on procfs; is /proc mounted?");
    size_t length = Length(sysctl.value);
    if (OCITS_RETRY(write(fd, sysctl.value, length)) != (long)length) Fail(socket, kStepSysctl, (int)i, errno);
    close(fd);
  }
}

}  // namespace ocits::init
