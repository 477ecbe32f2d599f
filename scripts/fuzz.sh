#!/usr/bin/env bash
# Fuzzes zap-http's request parsers (and the PROXY protocol parser) with libFuzzer under AddressSanitizer + UBSan (clang). It
# starts from tests/http/fuzz_corpus, works in build/fuzz/corpus, and at the end merges into
# tests/http/fuzz_corpus only the inputs that reach new code (commit those: ctest replays that
# corpus in every build, as http_request_fuzz_replay).
#
#   scripts/fuzz.sh            # 60 s
#   scripts/fuzz.sh 600        # 10 minutes
# Needs clang and its runtime (libclang-rt-14-dev). A crash stops the run and leaves crash-*
# in build/fuzz: add it to tests/http/fuzz_corpus with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build/fuzz
corpus=tests/http/fuzz_corpus
mkdir -p "$out/corpus"
sources=(tests/http/request_fuzz.cpp)
for s in request_head request_target byte_range http_date validators; do
  sources+=("apps/zap-http/$s.cpp")
done
sources+=(apps/common/proxy_protocol.cpp apps/common/server_names.cpp apps/common/tls_client_hello.cpp
          lib/zio/src/address.cpp)
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Iapps/zap-http -Iapps/common -Ilib/zio/include -Ilib/zio/src "${sources[@]}" \
  -o "$out/request_fuzzer"
"$out/request_fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=5 \
  -artifact_prefix="$out/" "$out/corpus" "$corpus"
"$out/request_fuzzer" -merge=1 -max_len=512 "$corpus" "$out/corpus" 2>&1 | tail -1
