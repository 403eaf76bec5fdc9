# Configure step of the bundled jemalloc (run with cmake -P by
# BundledJemalloc.cmake). Runs jemalloc's configure in BINARY_DIR only when
# the tree is not configured yet, or was configured with other arguments.
# Re-running configure regenerates jemalloc's headers, which would rebuild
# all of jemalloc; skipping it keeps `cmake --build --target clean` and
# re-configuring libcache cheap.
#
# Variables: SOURCE_DIR, BINARY_DIR, C_COMPILER, ARGS (space separated).

foreach(var IN ITEMS SOURCE_DIR BINARY_DIR C_COMPILER ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "JemallocConfigure.cmake: ${var} is not set")
  endif()
endforeach()

set(wanted "CC=${C_COMPILER}\nsource=${SOURCE_DIR}\nargs=${ARGS}\n")
set(record "${BINARY_DIR}/libcache-configure.txt")

if(EXISTS "${record}"
   AND EXISTS "${BINARY_DIR}/config.status"
   AND EXISTS "${BINARY_DIR}/Makefile"
   AND EXISTS "${BINARY_DIR}/include/jemalloc/jemalloc.h")
  file(READ "${record}" previous)
  if(previous STREQUAL wanted)
    message(STATUS "jemalloc: already configured in ${BINARY_DIR}")
    return()
  endif()
endif()

file(REMOVE "${record}")
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env "CC=${C_COMPILER}"
          "${SOURCE_DIR}/configure" ${args}
  WORKING_DIRECTORY "${BINARY_DIR}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "jemalloc's configure failed (${rc}); see ${BINARY_DIR}/config.log")
endif()
file(WRITE "${record}" "${wanted}")
