{
  "targets": [
    {
      "target_name": "ocits",
      "sources": [
        "addon/module.cc",
        "addon/errors.cc",
        "addon/lock.cc",
        "addon/unmount.cc",
        "addon/bpf.cc",
        "addon/seccomp_info.cc",
        "addon/seccomp_filter.cc",
        "addon/spawn.cc",
        "addon/idmap.cc",
        "addon/process_control.cc",
        "addon/exec.cc",
        "addon/exec_child.cc",
        "addon/init/safe.cc",
        "addon/init/cgroup.cc",
        "addon/init/copy_up.cc",
        "addon/init/rootfs.cc",
        "addon/init/process.cc",
        "addon/init/hooks.cc",
        "addon/init/process_attributes.cc",
        "addon/init/seccomp.cc",
        "addon/init/fd_passing.cc",
        "addon/init/sysctl.cc",
        "addon/init/namespaces.cc",
        "addon/init/init.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fno-exceptions"],
      "libraries": ["-lseccomp"],
      # The program (dist/ocits) is Bun, which carries no libstdc++: loading
      # the shared one with the addon cost every command about 1.2 ms.
      "ldflags": ["-static-libstdc++", "-static-libgcc"]
    },
    {
      "target_name": "ocits-launcher",
      "type": "executable",
      "sources": ["launcher/launcher.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
