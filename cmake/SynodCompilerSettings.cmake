# Language level, warnings, sanitizers, ccache, LTO and the bug-injection switch for every target in the tree.
# Included once from the top-level CMakeLists.txt, before any add_subdirectory().
include_guard(GLOBAL)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

# --- ccache --------------------------------------------------------------------------------------------------
if(SYNOD_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(SYNOD_CCACHE_PROGRAM ccache)
  if(SYNOD_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${SYNOD_CCACHE_PROGRAM}")
    message(STATUS "synod: using ccache (${SYNOD_CCACHE_PROGRAM})")
  endif()
endif()

# --- warnings ------------------------------------------------------------------------------------------------
add_compile_options(-Wall -Wextra -Wpedantic)
if(SYNOD_WERROR)
  add_compile_options(-Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    # GCC 12's flow-sensitive warnings give well-known false positives inside libstdc++ once the optimizer
    # runs (std::optional/std::variant, std::string concatenation, vector growth; e.g. GCC PR105329,
    # PR105651, PR106199). They stay visible as warnings but do not break the build.
    add_compile_options(-Wno-error=maybe-uninitialized -Wno-error=restrict -Wno-error=array-bounds
                        -Wno-error=stringop-overflow -Wno-error=stringop-overread)
  endif()
endif()

# --- sanitizers ----------------------------------------------------------------------------------------------
if(SYNOD_SANITIZE)
  set(_synod_sanitize_flags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_synod_sanitize_flags})
  add_link_options(${_synod_sanitize_flags})
endif()

# --- test-only injected bugs ---------------------------------------------------------------------------------
if(SYNOD_BUG_INJECTION)
  if(_synod_release_build)
    message(FATAL_ERROR "SYNOD_BUG_INJECTION=ON is not allowed in a release build (${CMAKE_BUILD_TYPE}): "
                        "injected protocol bugs must never exist in release binaries.")
  endif()
  add_compile_definitions(SYNOD_BUG_INJECTION=1)
endif()

# --- link-time optimization ----------------------------------------------------------------------------------
if(SYNOD_LTO)
  include(CheckIPOSupported)
  check_ipo_supported(RESULT _synod_ipo_ok OUTPUT _synod_ipo_msg LANGUAGES CXX)
  if(_synod_ipo_ok)
    set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
  else()
    message(WARNING "synod: LTO requested but not supported: ${_synod_ipo_msg}")
  endif()
endif()
