# Compiler flags shared by every zap target, carried by the internal interface target zap_build_flags.
# It is linked PRIVATE (and BUILD_INTERFACE only), so an embedder never inherits our warnings.
add_library(zap_build_flags INTERFACE)
target_compile_options(zap_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                 -Wnon-virtual-dtor -Wno-interference-size)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # clang 14 leaves C++14 sized deallocation off unless asked; our frame allocators use it.
  target_compile_options(zap_build_flags INTERFACE -Wno-unknown-warning-option -fsized-deallocation)
endif()
if(ZAP_WERROR)
  target_compile_options(zap_build_flags INTERFACE -Werror)
endif()

# Sanitizers apply to everything we build (libraries, tests, apps) so that instrumented and
# uninstrumented code never mix inside one process.
if(ZAP_SANITIZE)
  add_compile_options(-fsanitize=${ZAP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ZAP_SANITIZE})
  add_compile_definitions(ZAP_SANITIZE=1)
endif()
