#include "safe.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ocits::init {

Text& Text::Add(const char* text) { return Add(text, Length(text)); }

Text& Text::Add(const char* text, size_t length) {
  for (size_t i = 0; i < length && length_ + 1 < capacity_; ++i) buffer_[length_++] = text[i];
  buffer_[length_] = '\0';
  return *this;
}

Text& Text::AddNumber(int64_t number) {
  char digits[24];
  size_t count = 0;
  uint64_t magnitude = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
  do {
    digits[count++] = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (number < 0) Add("-");
  while (count > 0) Add(&digits[--count], 1);
  return *this;
}

size_t Length(const char* text) {
  size_t length = 0;
  while (text[length] != '\0') ++length;
  return length;
}

bool Equal(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

const char* ProcFdPath(int fd, char* buffer, size_t capacity) {
  return Text(buffer, capacity).Add("/proc/self/fd/").AddNumber(fd).c_str();
}

void MakeFailure(Message& message, Step step, int index, int error, const char* detail) {
  memset(&message, 0, sizeof message);
  message.kind = kMessageError;
  message.step = step;
  message.index = index;
  message.error = error;
  if (detail != nullptr) Text(message.detail, sizeof message.detail).Add(detail);
}

void Fail(int socket, Step step, int index, int error, const char* detail) {
  Message message;
  MakeFailure(message, step, index, error, detail);
  OCITS_RETRY(send(socket, &message, sizeof message, MSG_NOSIGNAL));
  _exit(1);
}

void Send(int socket, MessageKind kind, int index) {
  Message message;
  memset(&message, 0, sizeof message);
  message.kind = kind;
  message.index = index;
  if (OCITS_RETRY(send(socket, &message, sizeof message, MSG_NOSIGNAL)) < 0) _exit(1);
}

void AwaitContinue(int socket) {
  Message message;
  long count = OCITS_RETRY(recv(socket, &message, sizeof message, 0));
  if (count != (long)sizeof message || message.kind != kMessageContinue) _exit(1);
}

}  // namespace ocits::init
