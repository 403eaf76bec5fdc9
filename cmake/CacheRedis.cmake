# The near cache, libcache_redis.so.1: a local libcache in front of Redis
# (src/redis, include/cache_redis.h). Optional, and a separate library, so
# that libcache.so.1 itself never depends on hiredis.
#
#   LIBCACHE_REDIS=AUTO  built when pkg-config finds hiredis (the default)
#   LIBCACHE_REDIS=ON    hiredis is required
#   LIBCACHE_REDIS=OFF   not built
#
# Sets LIBCACHE_HAVE_REDIS to ON when the target cache_redis exists.

set(LIBCACHE_REDIS "AUTO" CACHE STRING
    "Build the near cache over Redis, libcache_redis (needs hiredis): AUTO, ON or OFF")
set_property(CACHE LIBCACHE_REDIS PROPERTY STRINGS AUTO ON OFF)
if(NOT LIBCACHE_REDIS MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "LIBCACHE_REDIS must be AUTO, ON or OFF, not '${LIBCACHE_REDIS}'")
endif()

set(LIBCACHE_HAVE_REDIS OFF)
if(LIBCACHE_REDIS STREQUAL "OFF")
  message(STATUS "libcache_redis: off (LIBCACHE_REDIS=OFF), the near cache is skipped")
  return()
endif()
if(LIBCACHE_REDIS STREQUAL "ON")
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
else()
  pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
endif()
if(NOT HIREDIS_FOUND)
  message(STATUS "libcache_redis: hiredis not found (Debian: libhiredis-dev), the near cache is skipped")
  return()
endif()
set(LIBCACHE_HAVE_REDIS ON)

set(LIBCACHE_REDIS_SOURCES
  src/redis/conn.c
  src/redis/near.c
  src/redis/ops.c
  src/redis/sub.c)

add_library(cache_redis SHARED ${LIBCACHE_REDIS_SOURCES})
add_library(libcache::redis ALIAS cache_redis)
set_target_properties(cache_redis PROPERTIES
  OUTPUT_NAME cache_redis
  EXPORT_NAME redis
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  C_STANDARD 11
  C_STANDARD_REQUIRED ON
  C_EXTENSIONS OFF
  C_VISIBILITY_PRESET hidden)
# POSIX for clock_gettime, pthread_mutex_timedlock, poll and pipe.
target_compile_definitions(cache_redis PRIVATE CACHE_REDIS_BUILDING
                                               _POSIX_C_SOURCE=200809L)
target_compile_options(cache_redis PRIVATE ${LIBCACHE_WARNING_FLAGS})
target_include_directories(cache_redis PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# Only the public interface of libcache: no private include directory.
target_link_libraries(cache_redis
  PUBLIC cache
  PRIVATE PkgConfig::HIREDIS Threads::Threads)
if(NOT LIBCACHE_SANITIZE)
  target_link_options(cache_redis PRIVATE "LINKER:--no-undefined")
endif()
# Exactly the functions of cache_redis.h, versioned LIBCACHE_REDIS_1.0.
set(LIBCACHE_REDIS_VERSION_SCRIPT "${PROJECT_SOURCE_DIR}/src/redis/libcache_redis.map")
target_link_options(cache_redis PRIVATE
  "LINKER:--version-script=${LIBCACHE_REDIS_VERSION_SCRIPT}")
set_property(TARGET cache_redis APPEND PROPERTY LINK_DEPENDS
  "${LIBCACHE_REDIS_VERSION_SCRIPT}")
