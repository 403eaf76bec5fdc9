# A private jemalloc, built from Debian's own source package.
#
# Defines the STATIC IMPORTED target `libcache_jemalloc` (lib/libjemalloc_pic.a
# plus its generated <jemalloc/jemalloc.h>). Its public API is renamed with
# the prefix cache_je_ and compiled without export, and it uses global-dynamic
# TLS (--disable-initial-exec-tls), so a shared library that links it can be
# dlopen'ed and shows none of jemalloc's symbols.
#
# Source, in order of preference:
#   -DLIBCACHE_JEMALLOC_SOURCE_DIR=/path/to/jemalloc-5.3.0  an unpacked tree
#   ${CMAKE_BINARY_DIR}/_deps/jemalloc-src                   `apt-get source
#                                                            jemalloc`, run
#                                                            once and kept
# The build tree (${CMAKE_BINARY_DIR}/_deps/jemalloc-build) is kept too:
# rebuilding libcache does not rebuild jemalloc.

include_guard(GLOBAL)
include(ExternalProject)

set(LIBCACHE_JEMALLOC_SOURCE_DIR "" CACHE PATH
    "Unpacked jemalloc source tree to build from (default: apt-get source jemalloc into the build tree)")

set(_je_deps "${CMAKE_BINARY_DIR}/_deps")
set(_je_download_dir "${_je_deps}/jemalloc-src")
set(_je_binary_dir "${_je_deps}/jemalloc-build")

# ---- the source --------------------------------------------------------------

function(_libcache_jemalloc_fetch out_dir)
  set(stamp "${_je_download_dir}/.libcache-source-dir")
  if(EXISTS "${stamp}")
    file(READ "${stamp}" dir)
    string(STRIP "${dir}" dir)
    if(EXISTS "${dir}/configure")
      set(${out_dir} "${dir}" PARENT_SCOPE)
      return()
    endif()
  endif()

  set(hint
    "Install the tools and the deb-src entry with `bash .ci/deps`, "
    "or pass -DLIBCACHE_JEMALLOC_SOURCE_DIR=<unpacked jemalloc source>, "
    "or configure with -DLIBCACHE_ALLOCATOR=system or libc.")

  find_program(LIBCACHE_APT_GET apt-get)
  find_program(LIBCACHE_DPKG_SOURCE dpkg-source)
  if(NOT LIBCACHE_APT_GET OR NOT LIBCACHE_DPKG_SOURCE)
    message(FATAL_ERROR
      "The bundled jemalloc is built from Debian's source package, which "
      "needs apt-get and dpkg-source (package dpkg-dev). " ${hint})
  endif()

  message(STATUS "jemalloc: apt-get source jemalloc into ${_je_download_dir}")
  file(REMOVE_RECURSE "${_je_download_dir}")
  file(MAKE_DIRECTORY "${_je_download_dir}")
  execute_process(
    COMMAND "${LIBCACHE_APT_GET}" source jemalloc
    WORKING_DIRECTORY "${_je_download_dir}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR
      "`apt-get source jemalloc` failed (${rc}):\n${out}\n${err}\n"
      "It needs a deb-src entry for bookworm and `apt-get update`. " ${hint})
  endif()

  file(GLOB candidates LIST_DIRECTORIES true "${_je_download_dir}/jemalloc-*")
  set(dir "")
  foreach(candidate IN LISTS candidates)
    if(IS_DIRECTORY "${candidate}" AND EXISTS "${candidate}/configure")
      set(dir "${candidate}")
    endif()
  endforeach()
  if(NOT dir)
    message(FATAL_ERROR
      "`apt-get source jemalloc` left no unpacked tree with a configure "
      "script in ${_je_download_dir}:\n${out}\n${err}")
  endif()
  file(WRITE "${stamp}" "${dir}\n")
  set(${out_dir} "${dir}" PARENT_SCOPE)
endfunction()

if(LIBCACHE_JEMALLOC_SOURCE_DIR)
  get_filename_component(_je_source_dir "${LIBCACHE_JEMALLOC_SOURCE_DIR}"
                         ABSOLUTE BASE_DIR "${CMAKE_BINARY_DIR}")
  if(NOT EXISTS "${_je_source_dir}/configure")
    message(FATAL_ERROR
      "LIBCACHE_JEMALLOC_SOURCE_DIR=${LIBCACHE_JEMALLOC_SOURCE_DIR} has no "
      "configure script: give the top of an unpacked jemalloc source tree")
  endif()
else()
  _libcache_jemalloc_fetch(_je_source_dir)
endif()
message(STATUS "jemalloc: source ${_je_source_dir}")

# ---- the build ---------------------------------------------------------------

set(_je_configure_args
  # global-dynamic TLS: the library that contains it can be dlopen'ed
  --disable-initial-exec-tls
  # every public name becomes cache_je_*, every private one cache_je_private_*
  --with-jemalloc-prefix=cache_je_
  --with-private-namespace=cache_je_private_
  # and none of them is exported
  --without-export
  --disable-cxx
  --disable-doc
  --disable-prof
  # Debian's choices on amd64 (debian/rules); statistics stay on, for mallctl
  --with-lg-page=12
  --with-lg-hugepage=21)

# Its thread caches through TLS descriptors, as libcache's own
# thread-locals (LIBCACHE_TLS_FLAGS in CMakeLists.txt).
if(LIBCACHE_TLS_FLAGS)
  list(APPEND _je_configure_args "EXTRA_CFLAGS=${LIBCACHE_TLS_FLAGS}")
endif()

list(JOIN _je_configure_args " " _je_configure_args_string)

set(_je_library "${_je_binary_dir}/lib/libjemalloc_pic.a")
set(_je_include_dir "${_je_binary_dir}/include")

if(CMAKE_GENERATOR MATCHES "Make")
  # Share the outer make's job server.
  set(_je_make "$(MAKE)")
else()
  find_program(LIBCACHE_MAKE NAMES gmake make REQUIRED)
  include(ProcessorCount)
  ProcessorCount(_je_jobs)
  if(_je_jobs EQUAL 0)
    set(_je_jobs 1)
  endif()
  set(_je_make "${LIBCACHE_MAKE}" -j${_je_jobs})
endif()

# Only the position independent static archive is built: it is the one a
# shared library can take in, and building nothing else halves the time.
# The configure step (cmake/JemallocConfigure.cmake) skips jemalloc's
# configure when the build tree is already configured with the same
# arguments, so that neither `--target clean` nor a new configure of libcache
# makes jemalloc build again from scratch.
ExternalProject_Add(libcache_jemalloc_build
  SOURCE_DIR "${_je_source_dir}"
  BINARY_DIR "${_je_binary_dir}"
  PREFIX "${_je_deps}/jemalloc-ep"
  CONFIGURE_COMMAND
    "${CMAKE_COMMAND}"
      "-DSOURCE_DIR=${_je_source_dir}"
      "-DBINARY_DIR=${_je_binary_dir}"
      "-DC_COMPILER=${CMAKE_C_COMPILER}"
      "-DARGS=${_je_configure_args_string}"
      -P "${CMAKE_CURRENT_LIST_DIR}/JemallocConfigure.cmake"
  BUILD_COMMAND ${_je_make} lib/libjemalloc_pic.a
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS "${_je_library}"
  LOG_CONFIGURE ON
  LOG_BUILD ON
  LOG_OUTPUT_ON_FAILURE ON)

# An imported target's include directory must exist when CMake generates.
file(MAKE_DIRECTORY "${_je_include_dir}")

add_library(libcache_jemalloc STATIC IMPORTED GLOBAL)
set_target_properties(libcache_jemalloc PROPERTIES
  IMPORTED_LOCATION "${_je_library}"
  INTERFACE_INCLUDE_DIRECTORIES "${_je_include_dir}")
# What jemalloc's own configure puts in LIBS: -lm -pthread (and libdl).
target_link_libraries(libcache_jemalloc INTERFACE
  Threads::Threads ${CMAKE_DL_LIBS} m)
add_dependencies(libcache_jemalloc libcache_jemalloc_build)
