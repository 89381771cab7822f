// Async-signal-safe building blocks for the cloned child: no allocation, no
// locks, no stdio. Strings are built into fixed buffers the caller owns.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

namespace ocits::init {

// A bounded string builder over a caller-provided buffer; always
// NUL-terminated, silently truncating when full.
class Text {
 public:
  Text(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) { buffer_[0] = '\0'; }
  Text& Add(const char* text);
  Text& Add(const char* text, size_t length);
  Text& AddNumber(int64_t number);
  const char* c_str() const { return buffer_; }
  size_t length() const { return length_; }

 private:
  char* buffer_;
  size_t capacity_;
  size_t length_ = 0;
};

size_t Length(const char* text);
bool Equal(const char* a, const char* b);

// "/proc/self/fd/N" for fd, in buffer (at least 32 bytes).
const char* ProcFdPath(int fd, char* buffer, size_t capacity);

// A failure message, ready to send.
void MakeFailure(Message& message, Step step, int index, int error, const char* detail);

// Reports a failure to the parent over the init socket, then exits. The
// detail may be nullptr.
[[noreturn]] void Fail(int socket, Step step, int index, int error, const char* detail = nullptr);

// Sends a message of this kind (index as given) to the parent; exits when it is gone.
void Send(int socket, MessageKind kind, int index = 0);

// Waits for the parent's go-ahead; a closed socket means the parent gave up.
void AwaitContinue(int socket);

// Retries a syscall-style call while it fails with EINTR.
#define OCITS_RETRY(expression)                        \
  ({                                                   \
    long _result;                                      \
    do {                                               \
      _result = (long)(expression);                    \
    } while (_result == -1 && errno == EINTR);         \
    _result;                                           \
  })

}  // namespace ocits::init
