// The compiler's cost model is the runtime's instruction table: the report
// of a program equals what mpc-run measures for it, with both comparison
// backends.
// RUN: mpc-translate --cost-report %S/export-ops.mlir -o %t.report
// RUN: FileCheck %s < %t.report
// RUN: mpc-translate --export-umbra %S/export-ops.mlir -o %t.umbra
// RUN: %python -c "import numpy as np; np.save('%t.ids.npy', np.array([[3, 0, 5]])); np.save('%t.x.npy', np.linspace(-1, 1, 6).reshape(2, 3))"
// RUN: mpc-run %t.umbra --local --comparison dcf -i ids=%t.ids.npy -i x=%t.x.npy -o %t.dcf --stats %t.dcf.json
// RUN: %python %S/Inputs/check_cost.py %t.report %t.dcf dcf | FileCheck %s --check-prefix=DCF
// RUN: mpc-run %t.umbra --local --comparison bits -i ids=%t.ids.npy -i x=%t.x.npy -o %t.bits --stats %t.bits.json
// RUN: %python %S/Inputs/check_cost.py %t.report %t.bits bits | FileCheck %s --check-prefix=BITS
// The same report from mpc-compile.
// RUN: mpc-compile %S/../../Tools/mpc-compile/Inputs/tiny.onnxtext --input-shape x=2x4 -o %t.tiny.umbra --cost-report | FileCheck %s --check-prefix=TINY

// CHECK: cost report
// CHECK: op count dcf bytes rounds bits bytes rounds
// The client's plaintext work costs nothing; the shared gates do.
// CHECK: exp 1 4032 18 8400 25
// CHECK: reciprocal 1 1296 9 6928 18
// CHECK: rsqrt 1 0 0 0 0
// CHECK: total 30 7568 38 30240 75
// DCF: dcf predicted 7568 B 38 rounds, measured 7568 B 38 rounds
// BITS: bits predicted 30240 B 75 rounds, measured 30240 B 75 rounds

// TINY: matmul 1 160 1 160 1
// TINY: relu 1 128 1 4400 8
// TINY: total 6 560 5 4832 12
