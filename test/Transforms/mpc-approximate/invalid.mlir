// Mistakes in the spec or the poly options, each named, and a spec the
// model carries that is not one.
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu" 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: error: mpc-approximate: approximation 'gelu': expected OP:STRATEGY[@FIRST-LAST], e.g. gelu:relu or softmax:2quad@0-5
// RUN: not mpc-opt %s --mpc-approximate="approx=matmul:relu" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: mpc-approximate: approximation 'matmul:relu': 'matmul' takes no approximation; the ops that do are gelu, silu, layer_norm, rms_norm, softmax
// RUN: not mpc-opt %s --mpc-approximate="approx=layer_norm:relu" 2>&1 | FileCheck %s --check-prefix=STRATEGY
// STRATEGY: error: mpc-approximate: approximation 'layer_norm:relu': 'relu' is no strategy of layer_norm; its strategies are accurate, affine, rsqrt
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu:relu@3-1" 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: error: mpc-approximate: approximation 'gelu:relu@3-1': the layer range '3-1' is not FIRST or FIRST-LAST with FIRST <= LAST
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu:poly approx-poly-domain=4:-4" 2>&1 | FileCheck %s --check-prefix=DOMAIN
// DOMAIN: error: mpc-approximate: approx-poly-domain '4:-4' is not LO:HI with LO < HI (e.g. -4:4)
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu:poly approx-poly-fit=remez" 2>&1 | FileCheck %s --check-prefix=FIT
// FIT: error: mpc-approximate: approx-poly-fit 'remez' is not least-squares or minimax
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu:poly approx-poly-degree=20" 2>&1 | FileCheck %s --check-prefix=DEGREE
// DEGREE: error: mpc-approximate: approx-poly-degree must be in 1..12, not 20
// RUN: not mpc-opt %s --mpc-approximate="approx=gelu:relu approx-report=%t/no/such/dir/r.json" 2>&1 | FileCheck %s --check-prefix=REPORT
// REPORT: error: mpc-approximate: cannot write the report '{{.*}}r.json'
// RUN: not mpc-opt %s --mpc-approximate 2>&1 | FileCheck %s --check-prefix=MODEL
// MODEL: error: mpc-approximate: approximation 'gelu:cubic': 'cubic' is no strategy of gelu; its strategies are accurate, poly, quad, relu (the model's ONNX metadata umbra.approximations)
module attributes {umbra.approximations = "gelu:cubic"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = tfm.gelu %x : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
