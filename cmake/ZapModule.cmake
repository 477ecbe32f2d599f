# zap_add_module(<name> [SOURCES ...] [DEPS ...] [PRIVATE_DEPS ...])
#
# Declares the library zap_<name> with alias zap::<name>, its public include directory
# lib/<name>/include (headers under zap/<name>/), and its dependencies. Every module is
# installed and exported in the zapTargets set.
set(ZAP_MODULES "" CACHE INTERNAL "zap modules in dependency order")

function(zap_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target zap_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(zap::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME zap_${name})
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS}
                        $<BUILD_INTERFACE:zap_build_flags>)
  install(TARGETS ${target} EXPORT zapTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set(ZAP_MODULES ${ZAP_MODULES} ${name} CACHE INTERNAL "zap modules in dependency order")
endfunction()
