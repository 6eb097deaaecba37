//===- Stats.h - Per-instruction statistics: JSON and Chrome trace -*- C++
//-*-===//
#pragma once
#include "umbra/runtime/Executor.h"
#include <nlohmann/json.hpp>
#include <string>

namespace umbra::rt {

/// {"role", "program", "phases": {phase: totals}, "instructions": [...]}.
/// Bytes are this role's traffic (frame headers included); "rounds" counts
/// communication rounds between P0 and P1; "dealer_bytes" is the dealer
/// material this role sent (dealer) or received (P1).
nlohmann::json statsJson(const std::vector<InstrStat> &stats, Role role,
                         const std::string &programHash, double totalSeconds);
/// Chrome trace / Perfetto ("X" complete events, one track per phase).
nlohmann::json chromeTrace(const std::vector<InstrStat> &stats, Role role);
void writeJson(const std::string &path, const nlohmann::json &j);

} // namespace umbra::rt
