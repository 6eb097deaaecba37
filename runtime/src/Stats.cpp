//===- Stats.cpp ----------------------------------------------------------===//
#include "umbra/runtime/Stats.h"
#include <fstream>
#include <map>

namespace umbra::rt {

using nlohmann::json;

json statsJson(const std::vector<InstrStat> &stats, Role role,
               const std::string &hash, double total) {
  json j;
  j["role"] = roleName(role);
  j["program"] = hash;
  j["total_seconds"] = total;
  std::map<std::string, json> phases;
  json instrs = json::array();
  for (const InstrStat &s : stats) {
    json &p = phases[s.phase];
    if (p.is_null())
      p = {{"bytes_sent", 0},   {"bytes_recv", 0}, {"rounds", 0},
           {"dealer_bytes", 0}, {"seconds", 0.0},  {"instructions", 0}};
    p["bytes_sent"] = p["bytes_sent"].get<uint64_t>() + s.c.sent;
    p["bytes_recv"] = p["bytes_recv"].get<uint64_t>() + s.c.recv;
    p["rounds"] = p["rounds"].get<uint64_t>() + s.c.rounds;
    p["dealer_bytes"] = p["dealer_bytes"].get<uint64_t>() + s.c.dealerBytes;
    p["seconds"] = p["seconds"].get<double>() + s.seconds;
    p["instructions"] = p["instructions"].get<uint64_t>() + 1;
    instrs.push_back({{"index", s.index},
                      {"op", s.op},
                      {"name", s.name},
                      {"phase", s.phase},
                      {"start", s.start},
                      {"seconds", s.seconds},
                      {"bytes_sent", s.c.sent},
                      {"bytes_recv", s.c.recv},
                      {"rounds", s.c.rounds},
                      {"dealer_bytes", s.c.dealerBytes}});
  }
  j["phases"] = phases;
  j["instructions"] = instrs;
  return j;
}

json chromeTrace(const std::vector<InstrStat> &stats, Role role) {
  json ev = json::array();
  int pid = int(role);
  ev.push_back({{"name", "process_name"},
                {"ph", "M"},
                {"pid", pid},
                {"args", {{"name", roleName(role)}}}});
  for (const InstrStat &s : stats) {
    std::string label = s.name.empty() ? s.op : s.op + " " + s.name;
    ev.push_back({{"name", label},
                  {"cat", s.phase},
                  {"ph", "X"},
                  {"ts", s.start * 1e6},
                  {"dur", s.seconds * 1e6},
                  {"pid", pid},
                  {"tid", s.phase == "deploy" ? 0 : 1},
                  {"args",
                   {{"index", s.index},
                    {"bytes_sent", s.c.sent},
                    {"bytes_recv", s.c.recv},
                    {"rounds", s.c.rounds},
                    {"dealer_bytes", s.c.dealerBytes}}}});
  }
  return {{"traceEvents", ev}, {"displayTimeUnit", "ms"}};
}

void writeJson(const std::string &path, const json &j) {
  std::ofstream f(path);
  f << j.dump(1) << "\n";
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
}

} // namespace umbra::rt
