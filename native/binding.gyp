{
  "targets": [
    {
      "target_name": "omnilive_native",
      "sources": [
        "src/addon.cc",
        "src/pocketsphinx_decoder.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "<!@(pkg-config --cflags pocketsphinx)"
      ],
      "libraries": [
        "<!@(pkg-config --libs pocketsphinx)"
      ]
    }
  ]
}
