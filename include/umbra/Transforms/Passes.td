#ifndef UMBRA_TRANSFORMS_PASSES_TD
#define UMBRA_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

// Passes that span dialects: they read `tfm` programs and decide or use the
// facts (who holds which value) that the lowering to `mpc` consumes. Later:
// mpc-approximate, mpc-insert-predictors, mpc-sparsify-ffn.

def MpcAssignRoles : Pass<"mpc-assign-roles", "::mlir::ModuleOp"> {
  let summary = "Declare who holds each graph input and weight";
  let description = [{
    Roles are declarations, never guesses from a constant's shape. The
    defaults, which the importer writes as `mpc.visibility` attributes: a
    graph input (function argument) is the client's, an ONNX initializer
    (a weight) is the model owner's, a literal (a Constant node, shape
    arithmetic, a constant a pass creates) is public. An unmarked float
    constant is the owner's: secret by default, never public by accident.

    This pass applies the user's overrides, in this order:
    - `public-weights`: every weight is public (an open model whose prompt
      alone is private);
    - `public-weight-names`: a regular expression (full match) over weight
      names, the ONNX initializer names the importer keeps as locations (or
      resource keys); matching weights become public (a frozen public base,
      public LoRA bases, public embeddings);
    - `role`: `NAME=client|owner|public` for a graph input (its `onnx.name`)
      or a weight, repeatable; the last word on that name. A weight cannot
      be the client's: constants are public or the model owner's.

    The visibility analysis then reads these attributes and nothing else.
    Example: `--mpc-assign-roles="public-weight-names=wte\..* role=x=owner"`.
  }];
  let options = [
    Option<"publicWeights", "public-weights", "bool", /*default=*/"false",
           "Every weight is public">,
    Option<"publicWeightNames", "public-weight-names", "std::string",
           /*default=*/"\"\"",
           "Regular expression (full match) over weight names that are public">,
    ListOption<"roles", "role", "std::string",
               "NAME=client|owner|public for a graph input or a weight "
               "(repeatable)">
  ];
  let statistics = [
    Statistic<"numPublicWeights", "public-weights", "weights made public">,
    Statistic<"numRoles", "roles", "inputs and weights given a role by name">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect"];
}

def MpcAnnotateVisibility : Pass<"mpc-annotate-visibility"> {
  let summary = "Write the inferred visibility of every value as an attribute";
  let description = [{
    Runs the visibility analysis (`umbra/Analysis/VisibilityAnalysis.h`), a
    sparse forward dataflow analysis over the lattice
    `public < {client, owner} < shared`, and records each op's result
    visibility as `mpc.visibility = #mpc.visibility<...>` so that lit tests
    and users can see where every value must be computed: by anyone
    (`public`), by the client alone (`client`), by the model owner alone
    (`owner`), or under MPC (`shared`).

    Sources are explicit (see `mpc-assign-roles`): a function argument's
    `mpc.visibility` (default `client`), a constant's `mpc.visibility`
    (default: `owner` for a float constant, `public` for integer and boolean
    structure such as shapes, indices and masks).
  }];
  let statistics = [
    Statistic<"numPublic", "public", "values visible to everyone">,
    Statistic<"numClient", "client", "values only the client sees">,
    Statistic<"numOwner", "owner", "values only the model owner sees">,
    Statistic<"numShared", "shared", "values that must be computed under MPC">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect"];
}

def MpcRelocate : Pass<"mpc-relocate", "::mlir::ModuleOp"> {
  let summary = "Move work on public values out of MPC (Marill et al., 2024)";
  let description = [{
    Runs on `tfm` before `convert-tfm-to-mpc` and rewrites the model so that
    nothing that could be computed in plaintext reaches MPC. It reads the
    roles `mpc-assign-roles` declared (for example public base weights):
    everything the analysis then finds computable by the client alone (its
    input and public values only, for example frozen first layers) is
    computed by the client in plaintext and shared once, where it meets the
    owner's weights.

    - Folding: an op whose operands are all public constants (reshape,
      transpose, neg, add, sub, mul) is evaluated at compile time, so public
      weight preprocessing never runs at all.
    - Distribution: `linear(x, W + D)` and `matmul(x, W + D)` with a public
      `W` and a private `D` (a public base plus the owner's fine-tuning
      delta) become `x W + x D`: when `x` is the client's, `x W` is a
      plaintext product at the client and only `x D` needs MPC.
  }];
  let statistics = [
    Statistic<"numFolded", "folded", "ops on public constants folded">,
    Statistic<"numDistributed", "distributed",
              "products distributed over a public + private sum">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // UMBRA_TRANSFORMS_PASSES_TD
