/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the remote-disk test tools share (tests/nbd/nbd-tool.c,
 * tests/rbd/rbd-tool.c): error lines the shell tests match ("error CODE
 * message"), and the aio completion slot. */
#ifndef VDK_TESTS_REMOTE_TOOL_H
#define VDK_TESTS_REMOTE_TOOL_H

#include <pthread.h>
#include <stdio.h>

#include <vdk.h>

static const char *
code_name (int code)
{
  switch (code) {
  case VDK_E_AUTH: return "AUTH";
  case VDK_E_CONNECT: return "CONNECT";
  case VDK_E_CONNECTION_LOST: return "CONNECTION_LOST";
  case VDK_E_TLS: return "TLS";
  case VDK_E_TICKET: return "TICKET";
  case VDK_E_NOT_FOUND: return "NOT_FOUND";
  case VDK_E_LOCKED: return "LOCKED";
  case VDK_E_READ_ONLY: return "READ_ONLY";
  case VDK_E_INVALID_ARG: return "INVALID_ARG";
  case VDK_E_HAS_SNAPSHOTS: return "HAS_SNAPSHOTS";
  case VDK_E_UNSUPPORTED: return "UNSUPPORTED";
  case VDK_E_NOT_SUPPORTED_BY_TRANSPORT: return "NOT_SUPPORTED_BY_TRANSPORT";
  case VDK_E_OUT_OF_RANGE: return "OUT_OF_RANGE";
  case VDK_E_ACCESS_DENIED: return "ACCESS_DENIED";
  default: return "OTHER";
  }
}

/* "error CODE message" for the thread's last error; returns 1. */
static int
print_error (void)
{
  printf ("error %s %s\n", code_name (vdk_last_error_code ()),
          vdk_last_error ());
  return 1;
}

/* One aio request's outcome: calls counts the callbacks (exactly one is
 * right), *pending the requests not yet done, under *lock. */
struct slot {
  int calls, error;
  int *pending;
  pthread_mutex_t *lock;
};

static void
slot_done (void *user_data, int error)
{
  struct slot *s = user_data;
  pthread_mutex_lock (s->lock);
  s->calls++;
  s->error = error;
  (*s->pending)--;
  pthread_mutex_unlock (s->lock);
}

#endif /* VDK_TESTS_REMOTE_TOOL_H */
