# Two interface targets, so that no global flag is edited and consumers inherit only what they
# need:
#  - hwnas_options (exported): the usage requirements of hwnas's headers, C++20 and the include
#    root. Every layer links it PUBLIC.
#  - hwnas_build_flags (build tree only): how hwnas itself is compiled, i.e. warnings, -Werror,
#    -O3, -march=native, sanitizers. Linked PRIVATE by every hwnas target through
#    hwnas_use_build_flags(), so a find_package(hwnas) consumer built for another CPU does not
#    inherit -march=native (tests/install checks it).
add_library(hwnas_options INTERFACE)
add_library(hwnas::options ALIAS hwnas_options)
target_compile_features(hwnas_options INTERFACE cxx_std_20)
target_include_directories(hwnas_options INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/hwnas>)

add_library(hwnas_build_flags INTERFACE)
target_compile_options(hwnas_build_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>
  $<$<CONFIG:Release>:-O3>)
# GCC 12's libstdc++ inlines std::string's operator+ (`"x" + std::to_string(n)`) into a memcpy
# that its -Wrestrict pass misjudges as overlapping at -O3: GCC bugs 105329 and 105651, fixed in
# GCC 13. It fires wherever the inliner happens to expand such a concatenation, which changes with
# the target CPU, so it is switched off for that compiler alone rather than chased per call.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(hwnas_build_flags INTERFACE -Wno-restrict)
endif()
if(HWNAS_NATIVE)
  target_compile_options(hwnas_build_flags INTERFACE -march=native)
endif()
if(HWNAS_REFERENCE_KERNELS)
  target_compile_definitions(hwnas_build_flags INTERFACE HWNAS_REFERENCE_KERNELS=1)
endif()
if(HWNAS_WERROR)
  target_compile_options(hwnas_build_flags INTERFACE $<$<CXX_COMPILER_ID:GNU,Clang>:-Werror>)
endif()
if(HWNAS_SANITIZE)
  # -fno-sanitize-recover: a UBSan finding fails the test that triggered it instead of printing
  # a line that nobody reads.
  target_compile_options(hwnas_build_flags INTERFACE -fsanitize=${HWNAS_SANITIZE}
                         -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(hwnas_build_flags INTERFACE -fsanitize=${HWNAS_SANITIZE})
endif()
if(HWNAS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HWNAS_FUZZ needs Clang (libFuzzer), e.g. CXX=clang++-14")
  endif()
  # Coverage instrumentation without libFuzzer's main, so that the libraries also link into
  # ordinary executables; the fuzz targets add -fsanitize=fuzzer themselves. UBSan must abort
  # rather than print and go on, or libFuzzer would not see its reports.
  target_compile_options(hwnas_build_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(hwnas_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# hwnas_use_build_flags(TARGET): compiles TARGET as hwnas is compiled, without passing the flags
# on to whoever links TARGET (BUILD_INTERFACE keeps the target out of the export set).
function(hwnas_use_build_flags target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:hwnas_build_flags>)
endfunction()

# hwnas_add_layer(NAME SOURCES... LINKS...): one library per folder, aliased hwnas::NAME.
function(hwnas_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINKS" ${ARGN})
  add_library(hwnas_${name} ${ARG_SOURCES})
  add_library(hwnas::${name} ALIAS hwnas_${name})
  set_target_properties(hwnas_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(hwnas_${name} PUBLIC hwnas_options ${ARG_LINKS})
  hwnas_use_build_flags(hwnas_${name})
endfunction()
