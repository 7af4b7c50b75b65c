# Install/export set so that another CMake project can `find_package(hwnas)` and link
# hwnas::spaces, hwnas::evaluators, ... (tests/install_consumer proves it).
include(CMakePackageConfigHelpers)
set(HWNAS_LAYERS hwnas_options)
foreach(layer core spaces evaluators profilers predictors search results distributed)
  if(TARGET hwnas_${layer})
    list(APPEND HWNAS_LAYERS hwnas_${layer})
  endif()
endforeach()
install(TARGETS ${HWNAS_LAYERS} EXPORT hwnasTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET hwnas)
  install(TARGETS hwnas RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
foreach(dir core spaces evaluators profilers predictors search results distributed)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hwnas/${dir}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.def")
endforeach()
install(EXPORT hwnasTargets NAMESPACE hwnas:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hwnas)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hwnasConfig.cmake.in
  ${PROJECT_BINARY_DIR}/hwnasConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hwnas)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hwnasConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hwnasConfig.cmake ${PROJECT_BINARY_DIR}/hwnasConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hwnas)
