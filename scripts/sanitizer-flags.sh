# Sourced by scripts/fuzz.sh and scripts/sanitize.sh: the one set of
# compiler flags of the ASan+UBSan trees (build-fuzz/, build-asan/).
# Identical flags let ccache share their objects, so the second tree costs
# little more than linking. -fsanitize=fuzzer-no-link adds libFuzzer's
# coverage counters, inert outside a libFuzzer binary (a few % slower).
# UBSan is fatal: the first report aborts the process.
UMBRA_ASAN_FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
UMBRA_TSAN_FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=thread"
# LLVM's headers poison and unpoison BumpPtrAllocator slabs when our code
# is built with ASan, but Debian's MLIR libraries (built without it) use
# the same slabs without unpoisoning: every tool would report a false
# use-after-poison in MLIRContext. Manual poisoning is therefore off; ASan
# still checks every heap, stack and global access.
UMBRA_ASAN_OPTIONS="detect_leaks=1:allow_user_poisoning=0"
