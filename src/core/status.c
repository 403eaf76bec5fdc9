/* Status codes, policy names and the version: all generated from the lists
 * in cache.h, so adding a code is one line there. */
#include "cache.h"

const char *cache_strerror(int status) {
  switch (status) {
#define XX(name, value, msg)                                                   \
  case CACHE_##name:                                                           \
    return msg;
    CACHE_STATUS_MAP(XX)
#undef XX
  }
  return "unknown status";
}

const char *cache_err_name(int status) {
  switch (status) {
#define XX(name, value, msg)                                                   \
  case CACHE_##name:                                                           \
    return "CACHE_" #name;
    CACHE_STATUS_MAP(XX)
#undef XX
  }
  return "CACHE_UNKNOWN";
}

const char *cache_policy_name(int policy) {
  switch (policy) {
#define XX(name, value, text)                                                  \
  case CACHE_POLICY_##name:                                                    \
    return text;
    CACHE_POLICY_MAP(XX)
#undef XX
  }
  return NULL;
}

const char *cache_version(void) { return CACHE_VERSION_STRING; }

unsigned cache_version_number(void) { return CACHE_VERSION_NUMBER; }

const char *cache_removal_name(int reason) {
  switch (reason) {
#define XX(name, value, text)                                                  \
  case CACHE_REMOVED_##name:                                                   \
    return text;
    CACHE_REMOVAL_MAP(XX)
#undef XX
  }
  return NULL;
}

const char *cache_alert_level_name(int level) {
  switch (level) {
#define XX(name, value, text)                                                  \
  case CACHE_ALERT_##name:                                                     \
    return text;
    CACHE_ALERT_LEVEL_MAP(XX)
#undef XX
  }
  return NULL;
}

const char *cache_health_name(int level) {
  switch (level) {
#define XX(name, value, text)                                                  \
  case CACHE_HEALTH_##name:                                                    \
    return text;
    CACHE_HEALTH_MAP(XX)
#undef XX
  }
  return NULL;
}
