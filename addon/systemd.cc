#include "systemd.h"

#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include <map>
#include <string>

namespace ocits {

namespace {

const char kService[] = "org.freedesktop.systemd1";
const char kPath[] = "/org/freedesktop/systemd1";
const char kManager[] = "org.freedesktop.systemd1.Manager";

// Throws Error(what: message) with .dbusName set to the D-Bus error name
// (org.freedesktop.systemd1.NoSuchUnit ...) when there is one, so TypeScript
// can tell the cases apart without parsing the message.
Napi::Value ThrowBusError(Napi::Env env, const std::string& what, const sd_bus_error* error, int r) {
  std::string reason;
  if (error != nullptr && sd_bus_error_is_set(error) && error->message != nullptr) {
    reason = error->message;
  } else {
    reason = strerror(r < 0 ? -r : r);
  }
  Napi::Error exception = Napi::Error::New(env, what + ": " + reason);
  if (error != nullptr && sd_bus_error_is_set(error)) exception.Value().Set("dbusName", error->name);
  exception.ThrowAsJavaScriptException();
  return env.Undefined();
}

uint64_t NowUsec() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

// The length of the single complete type at sig[pos], 0 when it is not one we
// marshal (dict entries and variants are refused by TypeScript before here).
size_t CompleteTypeLength(const std::string& sig, size_t pos) {
  if (pos >= sig.size()) return 0;
  char c = sig[pos];
  if (strchr("ybnqiuxtdsog", c) != nullptr) return 1;
  if (c == 'a') {
    size_t inner = CompleteTypeLength(sig, pos + 1);
    return inner == 0 ? 0 : 1 + inner;
  }
  if (c == '(') {
    size_t at = pos + 1;
    while (at < sig.size() && sig[at] != ')') {
      size_t member = CompleteTypeLength(sig, at);
      if (member == 0) return 0;
      at += member;
    }
    return at < sig.size() && at > pos + 1 ? at + 1 - pos : 0;
  }
  return 0;
}

uint64_t Unsigned64(const Napi::Value& value) {
  if (value.IsBigInt()) {
    bool lossless;
    return value.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return (uint64_t)value.As<Napi::Number>().DoubleValue();
}

int64_t Signed64(const Napi::Value& value) {
  if (value.IsBigInt()) {
    bool lossless;
    return value.As<Napi::BigInt>().Int64Value(&lossless);
  }
  return (int64_t)value.As<Napi::Number>().DoubleValue();
}

// Appends value as the single complete type sig. Returns a negative errno, or
// -EINVAL when the JavaScript value does not fit the signature.
int AppendValue(sd_bus_message* m, const std::string& sig, const Napi::Value& value) {
  char c = sig[0];
  if (c == 'a' || c == '(') {
    if (!value.IsArray()) return -EINVAL;
    Napi::Array items = value.As<Napi::Array>();
    std::string contents = c == 'a' ? sig.substr(1) : sig.substr(1, sig.size() - 2);
    int r = sd_bus_message_open_container(m, c == 'a' ? 'a' : 'r', contents.c_str());
    if (r < 0) return r;
    size_t at = 0;
    for (uint32_t i = 0; i < items.Length(); ++i) {
      std::string member = contents;
      if (c == '(') {
        if (at >= contents.size()) return -EINVAL;
        size_t length = CompleteTypeLength(contents, at);
        member = contents.substr(at, length);
        at += length;
      }
      r = AppendValue(m, member, items.Get(i));
      if (r < 0) return r;
    }
    if (c == '(' && at != contents.size()) return -EINVAL;
    return sd_bus_message_close_container(m);
  }
  switch (c) {
    case 'b': {
      if (!value.IsBoolean()) return -EINVAL;
      int v = value.As<Napi::Boolean>().Value() ? 1 : 0;
      return sd_bus_message_append_basic(m, c, &v);
    }
    case 's':
    case 'o':
    case 'g': {
      if (!value.IsString()) return -EINVAL;
      std::string v = value.As<Napi::String>().Utf8Value();
      return sd_bus_message_append_basic(m, c, v.c_str());
    }
    case 'd': {
      if (!value.IsNumber()) return -EINVAL;
      double v = value.As<Napi::Number>().DoubleValue();
      return sd_bus_message_append_basic(m, c, &v);
    }
    default:
      break;
  }
  if (!value.IsNumber() && !value.IsBigInt()) return -EINVAL;
  switch (c) {
    case 'y': { uint8_t v = (uint8_t)Unsigned64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 'n': { int16_t v = (int16_t)Signed64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 'q': { uint16_t v = (uint16_t)Unsigned64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 'i': { int32_t v = (int32_t)Signed64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 'u': { uint32_t v = (uint32_t)Unsigned64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 'x': { int64_t v = Signed64(value); return sd_bus_message_append_basic(m, c, &v); }
    case 't': { uint64_t v = Unsigned64(value); return sd_bus_message_append_basic(m, c, &v); }
    default: return -EINVAL;
  }
}

// properties: [[name, signature, value], ...] as an a(sv). On failure, names
// the property in *failed.
int AppendProperties(sd_bus_message* m, const Napi::Array& properties, std::string* failed) {
  int r = sd_bus_message_open_container(m, 'a', "(sv)");
  if (r < 0) return r;
  for (uint32_t i = 0; i < properties.Length(); ++i) {
    Napi::Value entry = properties.Get(i);
    if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 3) return -EINVAL;
    Napi::Array triple = entry.As<Napi::Array>();
    std::string name = triple.Get(0u).As<Napi::String>().Utf8Value();
    std::string sig = triple.Get(1u).As<Napi::String>().Utf8Value();
    *failed = name;
    if (CompleteTypeLength(sig, 0) != sig.size()) return -EINVAL;
    if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0) return r;
    if ((r = sd_bus_message_append_basic(m, 's', name.c_str())) < 0) return r;
    if ((r = sd_bus_message_open_container(m, 'v', sig.c_str())) < 0) return r;
    if ((r = AppendValue(m, sig, triple.Get(2u))) < 0) return r;
    if ((r = sd_bus_message_close_container(m)) < 0) return r;
    if ((r = sd_bus_message_close_container(m)) < 0) return r;
  }
  failed->clear();
  return sd_bus_message_close_container(m);
}

// Results of finished jobs by job path, filled by the JobRemoved signal.
using JobResults = std::map<std::string, std::string>;

int OnJobRemoved(sd_bus_message* m, void* userdata, sd_bus_error*) {
  uint32_t id;
  const char* path;
  const char* unit;
  const char* result;
  if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0) {
    (*static_cast<JobResults*>(userdata))[path] = result;
  }
  return 0;
}

// Listens for JobRemoved, which systemd sends only to subscribed clients.
int WatchJobs(sd_bus* bus, sd_bus_slot** slot, JobResults* results) {
  int r = sd_bus_match_signal(bus, slot, kService, kPath, kManager, "JobRemoved", OnJobRemoved, results);
  if (r < 0) return r;
  // An error here (already subscribed) changes nothing for us.
  sd_bus_call_method(bus, kService, kPath, kManager, "Subscribe", nullptr, nullptr, "");
  return 0;
}

// Waits until the job at job_path is removed; its result ("done", "failed",
// "timeout", ...), or empty on timeout. Negative errno on a bus failure.
int AwaitJob(sd_bus* bus, const std::string& job_path, JobResults* results, uint64_t timeout_usec, std::string* result) {
  uint64_t deadline = NowUsec() + timeout_usec;
  for (;;) {
    auto found = results->find(job_path);
    if (found != results->end()) {
      *result = found->second;
      return 0;
    }
    int r = sd_bus_process(bus, nullptr);
    if (r < 0) return r;
    if (r > 0) continue;
    uint64_t now = NowUsec();
    if (now >= deadline) {
      result->clear();
      return 0;
    }
    r = sd_bus_wait(bus, deadline - now);
    if (r < 0 && r != -EINTR) return r;
  }
}

// The arguments every call but connect starts with: a bus and a unit (or
// property) name; rest_ok is the caller's check of the others.
bool ReadUnitArguments(const Napi::CallbackInfo& info, size_t count, bool rest_ok, const char* usage, sd_bus** bus,
                       std::string* name) {
  if (info.Length() != count || !info[0].IsExternal() || !info[1].IsString() || !rest_ok) {
    Napi::TypeError::New(info.Env(), std::string(usage) + ": bad arguments").ThrowAsJavaScriptException();
    return false;
  }
  *bus = info[0].As<Napi::External<sd_bus>>().Data();
  *name = info[1].As<Napi::String>().Utf8Value();
  return true;
}

// Sends a method call that answers nothing we need; throws systemd's refusal.
Napi::Value CallManager(Napi::Env env, sd_bus* bus, sd_bus_message* m, const std::string& what) {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = sd_bus_call(bus, m, 0, &error, nullptr);
  Napi::Value outcome = r < 0 ? ThrowBusError(env, what, &error, r) : env.Undefined();
  sd_bus_error_free(&error);
  return outcome;
}

// Sends a job-creating Manager call built in m (StartTransientUnit,
// StopUnit) and waits for its job. Returns false when the call itself
// failed, with *error and *r set for the caller to judge (StopUnit of an
// absent unit is no failure); otherwise true, with an exception pending
// unless the job ended "done".
bool CallJob(Napi::Env env, sd_bus* bus, sd_bus_message* m, uint64_t timeout_usec, const std::string& what,
             sd_bus_error* error, int* r) {
  JobResults results;
  sd_bus_slot* slot = nullptr;
  // Subscribed before the call, so the job's end cannot be missed.
  *r = WatchJobs(bus, &slot, &results);
  if (*r < 0) return false;
  sd_bus_message* reply = nullptr;
  *r = sd_bus_call(bus, m, timeout_usec, error, &reply);
  bool called = *r >= 0;
  if (called) {
    const char* job = nullptr;
    std::string result;
    int read = sd_bus_message_read(reply, "o", &job);
    std::string job_path = read >= 0 ? job : "";
    if (read < 0) {
      ThrowBusError(env, what + ": reading the job", nullptr, read);
    } else if ((read = AwaitJob(bus, job_path, &results, timeout_usec, &result)) < 0) {
      ThrowBusError(env, what + ": waiting for job " + job_path, nullptr, read);
    } else if (result.empty()) {
      Napi::Error::New(env, what + ": systemd did not finish job " + job_path + " in time").ThrowAsJavaScriptException();
    } else if (result != "done") {
      Napi::Error::New(env, what + ": systemd's job " + job_path + " ended with result '" + result + "'")
          .ThrowAsJavaScriptException();
    }
  }
  sd_bus_message_unref(reply);
  sd_bus_slot_unref(slot);
  return called;
}

// A string property of the object at path; throws "what: reason" when it cannot be read.
Napi::Value StringProperty(Napi::Env env, sd_bus* bus, const char* path, const char* interface, const char* property,
                           const std::string& what) {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  char* value = nullptr;
  int r = sd_bus_get_property_string(bus, kService, path, interface, property, &error, &value);
  Napi::Value outcome = r < 0 ? ThrowBusError(env, what, &error, r) : Napi::String::New(env, value);
  free(value);
  sd_bus_error_free(&error);
  return outcome;
}

}  // namespace

Napi::Value SystemdConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsBoolean()) {
    Napi::TypeError::New(env, "systemdConnect(user): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool user = info[0].As<Napi::Boolean>().Value();
  sd_bus* bus = nullptr;
  int r = user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
  if (r < 0) return ThrowBusError(env, user ? "cannot connect to the user's D-Bus" : "cannot connect to the system D-Bus", nullptr, r);
  // sd_bus_open_* connects lazily; a first call makes a missing or refusing
  // bus fail here rather than in the middle of create.
  Napi::Value version = StringProperty(env, bus, kPath, kManager, "Version",
                                       std::string("cannot reach systemd on the ") + (user ? "user's" : "system") + " D-Bus");
  if (env.IsExceptionPending()) {
    sd_bus_flush_close_unref(bus);
    return version;
  }
  return Napi::External<sd_bus>::New(env, bus, [](Napi::Env, sd_bus* b) { sd_bus_flush_close_unref(b); });
}

Napi::Value SystemdStartTransientUnit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 4, info[2].IsArray() && info[3].IsNumber(),
                         "systemdStartTransientUnit(bus, name, properties, timeoutMs)", &bus, &name)) {
    return env.Undefined();
  }
  uint64_t timeout_usec = (uint64_t)info[3].As<Napi::Number>().Int64Value() * 1000;
  std::string what = "StartTransientUnit " + name;

  sd_bus_message* m = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  std::string failed;
  int r = sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, "StartTransientUnit");
  if (r >= 0) r = sd_bus_message_append(m, "ss", name.c_str(), "fail");
  if (r >= 0) r = AppendProperties(m, info[2].As<Napi::Array>(), &failed);
  if (r >= 0) r = sd_bus_message_append(m, "a(sa(sv))", 0);
  if (r < 0) {
    ThrowBusError(env, failed.empty() ? what : what + ": property " + failed, nullptr, r);
  } else if (!CallJob(env, bus, m, timeout_usec, what, &error, &r)) {
    ThrowBusError(env, what, &error, r);
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(m);
  return env.Undefined();
}

Napi::Value SystemdStopUnit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 4, info[2].IsString() && info[3].IsNumber(), "systemdStopUnit(bus, name, mode, timeoutMs)",
                         &bus, &name)) {
    return env.Undefined();
  }
  std::string mode = info[2].As<Napi::String>().Utf8Value();
  uint64_t timeout_usec = (uint64_t)info[3].As<Napi::Number>().Int64Value() * 1000;
  std::string what = "StopUnit " + name;

  sd_bus_message* m = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  Napi::Value outcome = Napi::Boolean::New(env, true);
  int r = sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, "StopUnit");
  if (r >= 0) r = sd_bus_message_append(m, "ss", name.c_str(), mode.c_str());
  if (r < 0) {
    ThrowBusError(env, what, nullptr, r);
  } else if (!CallJob(env, bus, m, timeout_usec, what, &error, &r)) {
    if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit")) {
      outcome = Napi::Boolean::New(env, false);
    } else {
      ThrowBusError(env, what, &error, r);
    }
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(m);
  if (!env.IsExceptionPending()) {
    // A scope whose processes were killed may stay loaded as failed; like
    // runc, clear that so the name is free again. Absent is fine.
    sd_bus_call_method(bus, kService, kPath, kManager, "ResetFailedUnit", nullptr, nullptr, "s", name.c_str());
  }
  return outcome;
}

Napi::Value SystemdSetUnitProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 3, info[2].IsArray(), "systemdSetUnitProperties(bus, name, properties)", &bus, &name)) {
    return env.Undefined();
  }
  std::string what = "SetUnitProperties " + name;
  sd_bus_message* m = nullptr;
  std::string failed;
  Napi::Value outcome;
  int r = sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, "SetUnitProperties");
  if (r >= 0) r = sd_bus_message_append(m, "sb", name.c_str(), 1);  // runtime: gone at reboot, as the unit is
  if (r >= 0) r = AppendProperties(m, info[2].As<Napi::Array>(), &failed);
  outcome = r < 0 ? ThrowBusError(env, failed.empty() ? what : what + ": property " + failed, nullptr, r)
                  : CallManager(env, bus, m, what);
  sd_bus_message_unref(m);
  return outcome;
}

Napi::Value SystemdAttachProcesses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 4, info[2].IsString() && info[3].IsArray(),
                         "systemdAttachProcesses(bus, name, subcgroup, pids)", &bus, &name)) {
    return env.Undefined();
  }
  std::string subcgroup = info[2].As<Napi::String>().Utf8Value();
  std::string what = "AttachProcessesToUnit " + name;
  sd_bus_message* m = nullptr;
  Napi::Value outcome;
  int r = sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, "AttachProcessesToUnit");
  if (r >= 0) r = sd_bus_message_append(m, "ss", name.c_str(), subcgroup.c_str());
  if (r >= 0) r = AppendValue(m, "au", info[3]);
  outcome = r < 0 ? ThrowBusError(env, what, nullptr, r) : CallManager(env, bus, m, what);
  sd_bus_message_unref(m);
  return outcome;
}

Napi::Value SystemdUnitActiveState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 2, true, "systemdUnitActiveState(bus, name)", &bus, &name)) return env.Undefined();
  std::string what = "GetUnit " + name;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  Napi::Value outcome = env.Null();
  // GetUnit, unlike LoadUnit, does not load the unit: asking does not make it exist.
  int r = sd_bus_call_method(bus, kService, kPath, kManager, "GetUnit", &error, &reply, "s", name.c_str());
  if (r < 0) {
    if (!sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit")) outcome = ThrowBusError(env, what, &error, r);
  } else {
    const char* unit_path = nullptr;
    std::string reading = "reading the ActiveState of " + name;
    r = sd_bus_message_read(reply, "o", &unit_path);
    outcome = r < 0 ? ThrowBusError(env, reading, nullptr, r)
                    : StringProperty(env, bus, unit_path, "org.freedesktop.systemd1.Unit", "ActiveState", reading);
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(reply);
  return outcome;
}

Napi::Value SystemdManagerProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sd_bus* bus;
  std::string name;
  if (!ReadUnitArguments(info, 2, true, "systemdManagerProperty(bus, name)", &bus, &name)) return env.Undefined();
  return StringProperty(env, bus, kPath, kManager, name.c_str(), "reading systemd's " + name);
}

}  // namespace ocits
