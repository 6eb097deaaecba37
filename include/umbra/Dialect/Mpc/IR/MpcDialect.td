#ifndef UMBRA_DIALECT_MPC_IR_MPCDIALECT_TD
#define UMBRA_DIALECT_MPC_IR_MPCDIALECT_TD

include "mlir/IR/OpBase.td"

def Mpc_Dialect : Dialect {
  let name = "mpc";
  let cppNamespace = "::umbra::mpc";
  let summary = "Protocol-level ops on fixed-point tensors with visibility";
  let description = [{
    The `mpc` dialect describes a secure two-party computation (two servers
    P0 and P1 plus a dealer, semi-honest). Every value is a tensor of ring
    elements in Z_2^64 holding fixed-point numbers with a static number of
    fractional bits, and its type says who may see it: `public` (everyone,
    the program is public), `client` or `owner` (plaintext held by one
    party), or `shared` (additively secret-shared between P0 and P1).
    Nothing leaves the `shared` state except through `mpc.reveal`, which
    carries a reason; the leakage report lists every reveal.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

class Mpc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mpc_Dialect, mnemonic, traits>;

#endif // UMBRA_DIALECT_MPC_IR_MPCDIALECT_TD
