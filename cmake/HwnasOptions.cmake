# Compile settings shared by every hwnas target, applied through an interface target
# so that no global flag is edited.
add_library(hwnas_options INTERFACE)
add_library(hwnas::options ALIAS hwnas_options)
target_compile_features(hwnas_options INTERFACE cxx_std_20)
target_compile_options(hwnas_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>
  $<$<CONFIG:Release>:-O3>)
# GCC 12's libstdc++ inlines std::string's operator+ (`"x" + std::to_string(n)`) into a memcpy
# that its -Wrestrict pass misjudges as overlapping at -O3: GCC bugs 105329 and 105651, fixed in
# GCC 13. It fires wherever the inliner happens to expand such a concatenation, which changes with
# the target CPU, so it is switched off for that compiler alone rather than chased per call.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(hwnas_options INTERFACE -Wno-restrict)
endif()
if(HWNAS_NATIVE)
  target_compile_options(hwnas_options INTERFACE -march=native)
endif()
if(HWNAS_REFERENCE_KERNELS)
  target_compile_definitions(hwnas_options INTERFACE HWNAS_REFERENCE_KERNELS=1)
endif()
if(HWNAS_WERROR)
  target_compile_options(hwnas_options INTERFACE $<$<CXX_COMPILER_ID:GNU,Clang>:-Werror>)
endif()
if(HWNAS_SANITIZE)
  # -fno-sanitize-recover: a UBSan finding fails the test that triggered it instead of printing
  # a line that nobody reads.
  target_compile_options(hwnas_options INTERFACE -fsanitize=${HWNAS_SANITIZE} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
  target_link_options(hwnas_options INTERFACE -fsanitize=${HWNAS_SANITIZE})
endif()
if(HWNAS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HWNAS_FUZZ needs Clang (libFuzzer), e.g. CXX=clang++-14")
  endif()
  # Coverage instrumentation without libFuzzer's main, so that the libraries also link into
  # ordinary executables; the fuzz targets add -fsanitize=fuzzer themselves. UBSan must abort
  # rather than print and go on, or libFuzzer would not see its reports.
  target_compile_options(hwnas_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(hwnas_options INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(hwnas_options INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/hwnas>)

# hwnas_add_layer(NAME SOURCES... LINKS...): one library per folder, aliased hwnas::NAME.
function(hwnas_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINKS" ${ARGN})
  add_library(hwnas_${name} ${ARG_SOURCES})
  add_library(hwnas::${name} ALIAS hwnas_${name})
  set_target_properties(hwnas_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(hwnas_${name} PUBLIC hwnas_options ${ARG_LINKS})
endfunction()
