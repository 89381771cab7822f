#include "bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "napi_helpers.h"

namespace ocits {

namespace {

// glibc has no wrapper for bpf(2).
int Bpf(int command, union bpf_attr* attr) {
  int rc;
  do {
    rc = static_cast<int>(syscall(SYS_bpf, command, attr, sizeof(*attr)));
  } while (rc < 0 && errno == EINTR);
  return rc;
}

int OpenCgroupDir(const std::string& dir) {
  return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

// The ids of the device programs attached to this cgroup itself (not the
// ones it inherits). Returns -errno on failure.
int QueryDevicePrograms(int cgroup, std::vector<__u32>* ids) {
  ids->assign(16, 0);
  for (;;) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = cgroup;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<__u64>(ids->data());
    attr.query.prog_cnt = static_cast<__u32>(ids->size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids->resize(attr.query.prog_cnt);
      return 0;
    }
    // ENOSPC: more programs than room; prog_cnt now says how many.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids->size()) return -errno;
    ids->assign(attr.query.prog_cnt, 0);
  }
}

// Loads the program; on failure, loads it again with the verifier's log
// switched on so the error can say why. Returns the fd or -errno.
int LoadDeviceProgram(const Napi::Buffer<uint8_t>& instructions, const std::string& license,
                      std::string* verifierLog) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<__u64>(instructions.Data());
  attr.insn_cnt = static_cast<__u32>(instructions.Length() / sizeof(struct bpf_insn));
  attr.license = reinterpret_cast<__u64>(license.c_str());
  int fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return fd;
  int err = errno;
  if (err == EPERM || err == ENOMEM) return -err;  // not the program's fault

  std::vector<char> log(64 * 1024, '\0');
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<__u64>(log.data());
  attr.log_size = static_cast<__u32>(log.size());
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return fd;  // passed this time: nothing to report
  log.back() = '\0';
  *verifierLog = log.data();
  while (!verifierLog->empty() && verifierLog->back() == '\n') verifierLog->pop_back();
  return -err;
}

// Throws errno's error with the cgroup directory and, when there is one, the
// verifier's log appended to the message.
Napi::Value ThrowBpfError(Napi::Env env, int err, const char* syscall, const std::string& dir,
                          const std::string& verifierLog = "") {
  ThrowErrno(env, err, syscall, dir.c_str());
  if (verifierLog.empty()) return env.Undefined();
  Napi::Error error = env.GetAndClearPendingException();
  // Errors are one line: the log's lines are joined with "; ".
  std::string oneLine;
  for (char c : verifierLog) oneLine += c == '\n' ? std::string("; ") : std::string(1, c);
  error.Set("message", Napi::String::New(env, error.Message() + " (verifier log: " + oneLine + ")"));
  error.Set("verifierLog", Napi::String::New(env, verifierLog));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool IsDirArgument(const Napi::CallbackInfo& info) { return info.Length() >= 1 && info[0].IsString(); }

}  // namespace

Napi::Value AttachDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !IsDirArgument(info) || !info[1].IsBuffer() || !info[2].IsString()) {
    Napi::TypeError::New(env, "attachDeviceProgram(cgroupDir, instructions, license): bad arguments")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> instructions = info[1].As<Napi::Buffer<uint8_t>>();
  std::string license = info[2].As<Napi::String>().Utf8Value();
  if (instructions.Length() == 0 || instructions.Length() % sizeof(struct bpf_insn) != 0) {
    Napi::TypeError::New(env, "attachDeviceProgram: instructions must be whole struct bpf_insn")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Fd cgroup(OpenCgroupDir(dir));
  if (cgroup.get() < 0) return ThrowErrno(env, errno, "open", dir.c_str());
  std::vector<__u32> oldIds;
  int rc = QueryDevicePrograms(cgroup.get(), &oldIds);
  if (rc < 0) return ThrowBpfError(env, -rc, "bpf(BPF_PROG_QUERY)", dir);

  std::string verifierLog;
  int loaded = LoadDeviceProgram(instructions, license, &verifierLog);
  if (loaded < 0) return ThrowBpfError(env, -loaded, "bpf(BPF_PROG_LOAD)", dir, verifierLog);
  Fd program(loaded);

  // The new program goes on first, the old ones come off after: at no
  // moment is the cgroup without a device filter.
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = cgroup.get();
  attr.attach_bpf_fd = program.get();
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) return ThrowBpfError(env, errno, "bpf(BPF_PROG_ATTACH)", dir);

  for (__u32 id : oldIds) {
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    int oldFd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (oldFd < 0) {
      if (errno == ENOENT) continue;  // detached and freed meanwhile
      return ThrowBpfError(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)", dir);
    }
    Fd old(oldFd);
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup.get();
    attr.attach_bpf_fd = old.get();
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT) {
      return ThrowBpfError(env, errno, "bpf(BPF_PROG_DETACH)", dir);
    }
  }
  return env.Undefined();
}

Napi::Value DeviceProgramIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !IsDirArgument(info)) {
    Napi::TypeError::New(env, "deviceProgramIds(cgroupDir): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Fd cgroup(OpenCgroupDir(dir));
  if (cgroup.get() < 0) return ThrowErrno(env, errno, "open", dir.c_str());
  std::vector<__u32> ids;
  int rc = QueryDevicePrograms(cgroup.get(), &ids);
  if (rc < 0) return ThrowBpfError(env, -rc, "bpf(BPF_PROG_QUERY)", dir);
  Napi::Array result = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return result;
}

}  // namespace ocits
