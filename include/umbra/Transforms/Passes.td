#ifndef UMBRA_TRANSFORMS_PASSES_TD
#define UMBRA_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

// Passes that span dialects: they read `tfm` programs and decide or use the
// facts (who holds which value) that the lowering to `mpc` consumes. Later:
// mpc-approximate.

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

def MpcApproximate : Pass<"mpc-approximate", "::mlir::ModuleOp"> {
  let summary = "Replace non-linear ops by MPC-friendly forms (Liu & Liu, MPCFormer, PUMA)";
  let description = [{
    Runs on `tfm` and gives each GeLU, SiLU, softmax, LayerNorm and RMSNorm
    the strategy `approx` chooses for it (the strategies and their constants
    are the table lib/Utils/Approximation/strategies.json, which python/
    reads too, so a model fine-tuned in torch computes what the program
    computes):

    - GeLU/SiLU: `accurate` (left to the lowering), `relu` (`tfm.relu`),
      `quad` (`tfm.polynomial`, MPCFormer), `poly` (`tfm.polynomial`: 0
      below the domain, x above it, `approx-poly-pieces` pieces of degree
      `approx-poly-degree` fitted by least squares or minimax; its largest error
      is reported);
    - softmax: `accurate`, `2quad` and `relu-norm` (`tfm.kernel_softmax`);
    - LayerNorm/RMSNorm: `accurate`, `affine` (no variance: `(x - mean) *
      scale + bias`, RMSNorm `x * scale`), `rsqrt` (the norm's 1/sqrt on a
      stated variance range with fewer product levels).

    `approx` is `OP:STRATEGY[@FIRST-LAST],...`, for example
    `gelu:relu,softmax:2quad@0-5`: later entries override earlier ones, a
    layer range applies to the ops of those layers (the numbered module in
    the op's ONNX name, `/blocks.3/...`). Empty: the strategies the model
    was fine-tuned with (ONNX metadata `umbra.approximations`, kept by the
    importer as the module attribute `umbra.approximations`), else none.
    `approx-report` names a JSON file that lists every op's strategy, layer,
    fitted pieces and error (python/umbra_models/approx.py reads it).
  }];
  let options = [
    Option<"approx", "approx", "std::string", /*default=*/"",
           "OP:STRATEGY[@FIRST-LAST],... (see strategies.json)">,
    Option<"polyDegree", "approx-poly-degree", "unsigned", /*default=*/"0",
           "degree of each fitted piece of `poly` (0: the table's)">,
    Option<"polyPieces", "approx-poly-pieces", "unsigned", /*default=*/"0",
           "pieces of `poly` on its domain (0: the table's)">,
    Option<"polyDomain", "approx-poly-domain", "std::string", /*default=*/"",
           "LO:HI, the domain `poly` is fitted on (empty: the table's)">,
    Option<"polyFit", "approx-poly-fit", "std::string", /*default=*/"",
           "least-squares | minimax (empty: the table's)">,
    Option<"report", "approx-report", "std::string", /*default=*/"",
           "write the approximation report (JSON) to this file">
  ];
  let statistics = [
    Statistic<"numApproximated", "approximated",
              "ops given a strategy other than accurate">
  ];
  let dependentDialects = ["::umbra::tfm::TfmDialect"];
}

def MpcInsertPredictors : Pass<"mpc-insert-predictors", "::mlir::ModuleOp"> {
  let summary = "Attach each FFN's activation predictor: a secret block mask per token";
  let description = [{
    Finds the FFNs of a `tfm` program, in program order: `linear -> relu |
    gelu | silu -> linear` and the gated form `linear -> act` times
    `linear` on the same input, then `linear`. The k-th FFN gets the
    predictor `tfm.ffn_predictor {ffn = k}` the importer read from the
    model (`umbra.predictor.<k>.*`, python/umbra_models/predictor.py):
    before the down projection it inserts

        scores = x (u v) + bias            (tfm.linear; u v folded)
        mask   = tfm.block_mask(scores, threshold) {group}
        h'     = tfm.block_select(h, mask)

    so the program computes the predicted model (only predicted blocks
    contribute), densely; `mpc-sparsify-ffn` then makes it block-sparse.
    Each token has its own mask (no union over the prompt).

    Options: `recall` picks each predictor's threshold from its recall
    table (the largest threshold whose held-out block recall is at least
    `recall`); `threshold` replaces every threshold; `block` merges
    predictor blocks into blocks of that many neurons (a multiple of the
    predictor's block: a merged block is active when any of its parts is);
    `bucket` pads each token's count of selected blocks up to a multiple of
    `bucket` with the lowest-numbered unselected blocks, so that the opened
    mask reveals the bucket, not the count. Refused, with a message: a model without predictors, a predictor count
    that differs from the FFN count, shapes that do not fit the FFN, a
    `block` the predictor's does not divide, `recall` without a recall
    table or beyond its largest recall, a `bucket` that does not divide the
    number of blocks.
  }];
  let options = [
    Option<"recall", "recall", "double", /*default=*/"0.0",
           "Target block recall: the threshold from each predictor's recall "
           "table (0: the threshold the model ships)">,
    Option<"threshold", "threshold", "std::string", /*default=*/"\"\"",
           "Replace every predictor's threshold by this number">,
    Option<"block", "block", "int64_t", /*default=*/"0",
           "Neurons per block of the sparse FFN (0: the predictor's)">,
    Option<"bucket", "bucket", "int64_t", /*default=*/"0",
           "Pad each token's count of selected blocks to a multiple of this "
           "(0: the exact count)">
  ];
  let statistics = [
    Statistic<"numFfns", "ffns", "FFNs given a predictor">,
    Statistic<"numGated", "gated", "gated FFNs among them">
  ];
  let dependentDialects = ["::umbra::tfm::TfmDialect",
                           "::umbra::mpc::MpcDialect",
                           "::mlir::arith::ArithDialect"];
}

def MpcSparsifyFfn : Pass<"mpc-sparsify-ffn", "::mlir::ModuleOp"> {
  let summary = "Rewrite predicted FFNs into block-sparse form";
  let description = [{
    Each FFN whose activations `mpc-insert-predictors` restricted to a
    predicted block mask (`tfm.block_select` before the down projection)
    becomes

        h = tfm.block_linear(x, W1, b1, mask)            sparse output
        a = tfm.block_relu(h, mask)                      selected blocks only
        y = tfm.block_linear(a, W2, b2, mask) {sparse_input}

    (gated: two sparse-output products, the activation, their product, one
    sparse-input product). The lowering runs it obliviously: the blocks
    are permuted by a permutation no server knows alone, the permuted mask
    is opened (its count of active blocks per token is the declared
    leakage), and only live blocks are computed (docs/sparsity.md).

    `leakage`: `per-deployment` (the weights are permuted once per
    deployment; the opened masks of all queries are linkable up to that
    permutation) or `per-inference` (a fresh permutation per inference:
    only the counts, and within one inference which tokens share blocks;
    the permutation of the weights is then input-independent work of every
    inference). An activation other than ReLU is evaluated densely (its
    value on unselected blocks is then masked): only ReLU has a
    selected-blocks-only form.
  }];
  let options = [
    Option<"leakage", "leakage", "std::string", /*default=*/"\"per-deployment\"",
           "per-deployment | per-inference: how often the blocks are "
           "re-permuted">
  ];
  let statistics = [
    Statistic<"numSparse", "sparse-ffns", "FFNs made block-sparse">,
    Statistic<"numDenseActivations", "dense-activations",
              "activations without a selected-blocks-only form">
  ];
  let dependentDialects = ["::umbra::tfm::TfmDialect"];
}

#endif // UMBRA_TRANSFORMS_PASSES_TD
