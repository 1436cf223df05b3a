/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Threads of the library. */
#ifndef VDK_THREAD_H
#define VDK_THREAD_H

#include <pthread.h>
#include <signal.h>

/* Start a thread with every signal blocked: a library's threads must
 * not take the program's signals.  Returns pthread_create's result (0,
 * or an errno value). */
static inline int
vdk__thread_start (pthread_t *t, void *(*fn) (void *), void *arg)
{
  sigset_t all, old;
  int e;

  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  e = pthread_create (t, NULL, fn, arg);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  return e;
}

#endif /* VDK_THREAD_H */
