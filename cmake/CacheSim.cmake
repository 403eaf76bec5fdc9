# cache-sim's replay (sim.c) and trace readers (input.c, trace.c) are
# compiled into three programs: cache-sim itself (examples/cache-sim),
# cache-bench's `real` workload (bench/) and the tests (tests/). Each of
# them calls cache_sim_link(<target>), whichever of examples, bench and
# tests the build has.
#
# gzip'ed traces need zlib (Debian: zlib1g-dev). Without it the programs
# are built all the same, and a gzip'ed trace is refused with an error
# that says why.

function(cache_sim_link target)
  set(dir "${PROJECT_SOURCE_DIR}/examples/cache-sim")
  target_sources(${target} PRIVATE
    "${dir}/input.c"
    "${dir}/sim.c"
    "${dir}/trace.c")
  target_include_directories(${target} PRIVATE "${dir}")
  target_link_libraries(${target} PRIVATE cache)

  find_package(ZLIB QUIET)
  if(ZLIB_FOUND)
    target_link_libraries(${target} PRIVATE ZLIB::ZLIB)
    target_compile_definitions(${target} PRIVATE SIM_HAVE_ZLIB=1)
  else()
    get_property(_told GLOBAL PROPERTY CACHE_SIM_TOLD_NO_ZLIB)
    if(NOT _told)
      message(STATUS "zlib not found: cache-sim, cache-bench and the tests "
                     "will read no gzip'ed trace (Debian: zlib1g-dev)")
      set_property(GLOBAL PROPERTY CACHE_SIM_TOLD_NO_ZLIB TRUE)
    endif()
  endif()
endfunction()
