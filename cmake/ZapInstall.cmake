# Umbrella target zap::zap (every module) and the exported package config, so that an embedder
# writes find_package(zap) and links zap::zio, or zap::zap for everything.
include(CMakePackageConfigHelpers)

add_library(zap_all INTERFACE)
add_library(zap::zap ALIAS zap_all)
set_target_properties(zap_all PROPERTIES EXPORT_NAME zap)
foreach(module IN LISTS ZAP_MODULES)
  target_link_libraries(zap_all INTERFACE zap::${module})
endforeach()
install(TARGETS zap_all EXPORT zapTargets)

set(ZAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/zap)
install(EXPORT zapTargets NAMESPACE zap:: DESTINATION ${ZAP_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/zapConfig.cmake.in
  ${PROJECT_BINARY_DIR}/zapConfig.cmake INSTALL_DESTINATION ${ZAP_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/zapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/zapConfig.cmake ${PROJECT_BINARY_DIR}/zapConfigVersion.cmake
        DESTINATION ${ZAP_CMAKE_DIR})
