{
  "targets": [
    {
      "target_name": "nsfd",
      "sources": ["<!@(ls -1 native/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "dependencies+": ["nsfd-init"],
      "configurations": {
        "Release": { "defines": ["NSFD_INIT_BIN=\"<(module_root_dir)/build/Release/nsfd-init\""] },
        "Debug": { "defines": ["NSFD_INIT_BIN=\"<(module_root_dir)/build/Debug/nsfd-init\""] }
      },
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++1y", "-fno-rtti"],
      "cflags_cc": ["-std=c++20", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    },
    {
      "target_name": "nsfd-init",
      "type": "executable",
      "sources": ["native/init/nsfd-init.c"],
      "cflags!": ["-fPIC", "-pthread", "-O3"],
      "cflags": ["-Os", "-Wall", "-Wextra", "-ffreestanding", "-fno-builtin", "-fno-stack-protector", "-fno-pie", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-fno-omit-frame-pointer"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "ldflags": ["-nostdlib", "-static", "-no-pie", "-s", "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-Wl,-z,noseparate-code"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
