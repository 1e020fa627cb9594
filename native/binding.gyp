{
  "variables": {
    # Set by native/install.mjs when it compiled src/cuda/*.cu with nvcc: the static
    # library of the CUDA kernels and the directory of libcudart_static.a. Empty (the
    # default, e.g. a bare `node-gyp rebuild`) builds the CPU-only addon.
    "omnilive_cuda_lib%": "<!(node -p \"process.env.OMNILIVE_CUDA_LIB || ''\")",
    "omnilive_cudart_dir%": "<!(node -p \"process.env.OMNILIVE_CUDART_DIR || ''\")"
  },
  "targets": [
    {
      "target_name": "omnilive_native",
      "sources": [
        "src/addon.cc",
        "src/pocketsphinx_decoder.cc",
        "src/kernel_bindings.cc",
        "src/image_kernels.cc",
        "src/audio_kernels.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-O3",
        "-ffp-contract=off",
        "-fopenmp-simd",
        "<!@(pkg-config --cflags pocketsphinx)"
      ],
      "libraries": [
        "<!@(pkg-config --libs pocketsphinx)"
      ],
      "conditions": [
        ["omnilive_cuda_lib!=''", {
          "defines": ["OMNILIVE_CUDA"],
          "libraries": [
            "<(omnilive_cuda_lib)",
            "-L<(omnilive_cudart_dir)",
            "-lcudart_static",
            "-ldl",
            "-lrt",
            "-lpthread"
          ]
        }]
      ]
    }
  ]
}
