# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "UMBRA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.umbra_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.umbra_python))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# mpc-run is built by the runtime's CMake, into <build>/runtime.
runtime_dir = os.path.join(config.umbra_obj_root, "runtime")
tool_dirs = [config.umbra_tools_dir, runtime_dir, config.llvm_tools_dir]
tools = ["mpc-opt", "mpc-translate", "mpc-compile", "mpc-run"]
llvm_config.add_tool_substitutions(
    [t for t in tools
     if any(os.path.exists(os.path.join(d, t))
            for d in (config.umbra_tools_dir, runtime_dir))],
    tool_dirs)
llvm_config.with_environment("PATH", config.umbra_tools_dir, append_path=True)
llvm_config.with_environment("PATH", runtime_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
