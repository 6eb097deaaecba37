//===- Protocols.h - The runtime's protocols (umbrella) --------*- C++ -*-===//
//
// Everything a gate or an executor needs from the protocol layer:
//   protocols/Party.h       a role: state, material provider, peer channel
//   protocols/PartyState.h  role, fractional bits, links, counters
//   protocols/Material.h    correlated randomness (the dealer's streams)
//   protocols/Channel.h     the protocol's message kinds over a net/ link
//   protocols/Comparison.h  comparison backends behind one interface
//   protocols/Dealer2pc.h   the 2PC + dealer gates
//   protocols/Dcf.h         the DCF primitive of the dcf backend
//   protocols/Fxp.h         exp, polynomials, reciprocal / rsqrt
//   protocols/ThreadPool.h  the one worker pool
// Layout and how to add a backend: docs/protocols.md.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/protocols/Dcf.h"
#include "umbra/runtime/protocols/Dealer2pc.h"
#include "umbra/runtime/protocols/Fxp.h"
#include "umbra/runtime/protocols/ThreadPool.h"
