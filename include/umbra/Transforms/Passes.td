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
      `NAME=state` declares a graph input or output as state carried from
      one program of a session to the next (a generation's key/value
      cache): the input arrives as the parties' shares of the previous
      program's state output (`mpc.state`, visibility shared), and the
      output stays secret-shared, never revealed. `NAME=public` on a graph
      output reveals it to every role, the servers too
      (`mpc.public_output`; a generation's opt-in end-of-sequence stop).

    Before the roles by name, `public-structure` (on by default) makes
    public the owner's tables that are functions of the public architecture:
    a weight whose values equal, element by element within float rounding,
    a rotary cos/sin table (half-split or interleaved, full or partial, any
    base θ found by fitting), position ids (an arange), a 0/1 or additive
    (0 and -inf, finfo.min, -1e9, -1e4) causal, band or sliding-window mask,
    or ALiBi slopes. Its values are replaced by the formula's, so what
    becomes public is the formula and its parameters only; each decision is
    recorded in the module attribute `mpc.public_structure` (name ->
    formula) for the leakage report, and the constant's provenance becomes
    `{name = "--public-structure"}`. A table that is close but not equal
    stays the owner's; a `role` for the name always wins.

    Last, `outsourced` declares the deployment in which the client is not a
    server (a thin client shares its input to P0 and P1): every real-valued
    input of the client is marked `shared` (the client encodes it and
    secret-shares it at once), so everything computed from it runs under
    MPC and the client computes nothing. Integer inputs (token ids, indices)
    stay the client's: it shares the one-hot rows or selections the program
    takes from them, the encoding of its input. Without it (the two-party
    mode), the client is P0 and computes in plaintext what depends on its
    data alone.

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
               "NAME=client|owner|public for a graph input or a weight, "
               "NAME=state for a graph input or output (repeatable)">,
    Option<"publicStructure", "public-structure", "bool", /*default=*/"true",
           "Make public the weights whose values equal a function of the "
           "architecture (rotary tables, position ids, masks, ALiBi slopes)">,
    Option<"outsourced", "outsourced", "bool", /*default=*/"false",
           "The client is not a server: its real-valued inputs are "
           "secret-shared at once and everything computed from them runs "
           "under MPC">
  ];
  let statistics = [
    Statistic<"numPublicWeights", "public-weights", "weights made public">,
    Statistic<"numRoles", "roles", "inputs and weights given a role by name">,
    Statistic<"numStructure", "public-structure",
              "weights recognised as functions of the architecture">
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

def MpcAnnotateRanges : Pass<"mpc-annotate-ranges", "::mlir::ModuleOp"> {
  let summary = "Write the interval range of every tfm value as an attribute";
  let description = [{
    Runs the range analysis (`umbra/Analysis/RangeAnalysis.h`), a sparse
    forward dataflow analysis over intervals, from the declared input
    ranges (`input-range=NAME=LO:HI`, repeatable), the constants' values
    and optional calibration data (`calibration=FILE.json`, per-node
    min/max recorded by `umbra_models.calibrate` on real inputs). Writes on
    every tfm op `mpc.range = [lo, hi]` (strings `"-inf"`/`"inf"` for
    unbounded ends) and `mpc.headroom` (bits of fixed-point headroom at the
    lowering's default 16 fractional bits), and emits a warning, with the
    node's location and name, for each place where fixed point could
    overflow or an approximation of the lowering would be evaluated outside
    its domain (`umbra/Conversion/ApproximationDomains.h`). A debugging
    pass for lit: `mpc-compile --range-report` prints the same per op.

    The ranges derive from the owner's weights: never run this pass in a
    pipeline whose output is published.
  }];
  let options = [
    ListOption<"inputRanges", "input-range", "std::string",
               "NAME=LO:HI for a graph input (repeatable)">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration JSON written by umbra_models.calibrate">
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
