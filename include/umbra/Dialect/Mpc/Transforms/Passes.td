#ifndef UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_TD
#define UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

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

    Sources: function arguments carry `mpc.visibility` (default `client`);
    a constant carries `mpc.visibility`, or else a non-splat floating-point
    constant is a model weight (`owner`, `public` with `public-weights`)
    and every other constant is `public`.
  }];
  let options = [
    Option<"publicWeights", "public-weights", "bool", /*default=*/"false",
           "Treat the model's weights as public (e.g. an open model whose "
           "prompt alone is private)">
  ];
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
    nothing that could be computed in plaintext reaches MPC:

    - Public weights by name: `public-weights` is a regular expression over
      weight names (the ONNX initializer names, which the importer keeps as
      the resource keys). Matching weights get `mpc.visibility = public`: a
      frozen public base model, public LoRA bases, public embeddings.
      Everything the analysis then finds computable by the client alone
      (its input and public values only, for example the frozen first
      layers) is computed by the client in plaintext and shared once, where
      it meets the owner's weights.
    - Folding: an op whose operands are all public constants (reshape,
      transpose, neg, add, sub, mul) is evaluated at compile time, so public
      weight preprocessing never runs at all.
    - Distribution: `linear(x, W + D)` and `matmul(x, W + D)` with a public
      `W` and a private `D` (a public base plus the owner's fine-tuning
      delta) become `x W + x D`: when `x` is the client's, `x W` is a
      plaintext product at the client and only `x D` needs MPC.
  }];
  let options = [
    Option<"publicWeights", "public-weights", "std::string", /*default=*/"\"\"",
           "Regular expression (full match) over weight names that are public">
  ];
  let statistics = [
    Statistic<"numPublicWeights", "public-weights", "weights marked public">,
    Statistic<"numFolded", "folded", "ops on public constants folded">,
    Statistic<"numDistributed", "distributed",
              "products distributed over a public + private sum">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect",
                           "::mlir::arith::ArithDialect"];
}

def MpcOptimize : Pass<"mpc-optimize", "::mlir::func::FuncOp"> {
  let summary = "Merge truncations and schedule openings into shared rounds";
  let description = [{
    Protocol-level clean-up of a lowered program:

    - Truncation merging: `trunc(trunc(x, a), b)` becomes `trunc(x, a + b)`,
      and `trunc(a, k) +/- trunc(b, k)` of single-use truncations becomes
      `trunc(a +/- b, k)`: one truncation protocol instead of two, at the
      same error bound (one unit in the last place).
    - Round scheduling: every op gets the communication round in which it can
      start (`mpc.round`, the longest chain of interactive ops before it) and
      the block is reordered, stably, by that round, so that independent
      openings (for example the comparisons of a spline, or the Q, K and V
      projections) are adjacent and can share one message exchange. The
      program's round count (its critical path) is attached to the function
      as `mpc.rounds`.

    Rounds per op follow the runtime's protocols (docs/protocols.md): on
    shared operands, share, reveal, products, truncation, comparison,
    ReLU and selection take one round; a polynomial of degree d takes
    ceil(log2 d) + 1; exp with t squarings takes 2t; max over n elements
    takes 2 ceil(log2 n); reciprocal and rsqrt take 2 per Newton iteration
    (4 iterations when the runtime chooses). Ops on public or single-party
    values are local (0 rounds).

    Run `cse` first (or use the umbra pipeline) so equal openings are not
    duplicated.
  }];
  let statistics = [
    Statistic<"numTruncsMerged", "truncs-merged", "truncations removed">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect"];
}

#endif // UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_TD
