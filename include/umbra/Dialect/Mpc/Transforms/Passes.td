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

#endif // UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_TD
