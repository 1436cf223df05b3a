/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progress.c - the progress bar of `vdk -p` commands (vdk-tool.h).
 *
 * Drawn on standard error only when it is a terminal and the user asked
 * (-p).  One line, redrawn in place: "\r", the line, and spaces over
 * what the previous line had beyond it, so no escape sequence is
 * needed.  The line is always shorter than the terminal (the width is
 * asked of the terminal at every redraw, so a resize is followed): a
 * line as wide as the terminal would wrap, and every later "\r" would
 * then redraw only its second half.  Layout, widest first:
 *
 *   convert  42.1% [##########           ] 181.2M/s ETA 0:12
 *
 * the bar takes what is left (at most BAR_MAX); on a narrow terminal
 * the bar goes first, then the label, and the rest is cut.  The rate is
 * the average since the start (bytes per second, powers of 1024), the
 * time left follows from it; at the end the time taken replaces it.
 * Redraws happen when the tenth of a percent changes, at most every
 * REDRAW_S seconds (and always at the end), so a fast run does not
 * spend its time writing to the terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vdk-common.h"
#include "vdk-tool.h"

#define BAR_MAX 50
#define REDRAW_S 0.1
#define LINE_MAX 512

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Columns of the terminal on stderr; $COLUMNS, then 80, if it does not
 * say. */
static int
term_columns (void)
{
  struct winsize ws;
  const char *env = getenv ("COLUMNS");

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (env && atoi (env) > 0)
    return atoi (env);
  return 80;
}

/* "181.2M/s" */
static void
format_rate (double bytes_per_s, char *buf, size_t len)
{
  static const char units[] = "BKMGTP";
  size_t u = 0;

  while (bytes_per_s >= 1000.0 && u + 1 < sizeof units - 1) {
    bytes_per_s /= 1024.0;
    u++;
  }
  snprintf (buf, len, "%.*f%c/s", bytes_per_s < 100.0 ? 1 : 0,
            bytes_per_s, units[u]);
}

/* "0:12", "1:02:03" */
static void
format_time (double s, char *buf, size_t len)
{
  unsigned long t = s > 0 && s < 1e7 ? (unsigned long) (s + 0.5) : 0;

  if (t >= 3600)
    snprintf (buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf (buf, len, "%lu:%02lu", t / 60, t % 60);
}

/* The right-hand part: rate and time left (or taken, at the end). */
static void
format_tail (const struct tool_progress *p, double elapsed, char *buf,
             size_t len)
{
  char rate[32], t[32];
  double bps = elapsed > 0 ? (double) p->done / elapsed : 0;

  if (p->done >= p->total) {
    format_time (elapsed, t, sizeof t);
    format_rate (bps, rate, sizeof rate);
    snprintf (buf, len, "%s in %s", rate, t);
  }
  else if (elapsed < 0.5 || p->done == 0) {
    snprintf (buf, len, "--.-M/s ETA --:--");
  }
  else {
    format_rate (bps, rate, sizeof rate);
    format_time ((double) (p->total - p->done) / bps, t, sizeof t);
    snprintf (buf, len, "%s ETA %s", rate, t);
  }
}

static void
draw (struct tool_progress *p, double now)
{
  char line[LINE_MAX], tail[80], pct[16], bar[BAR_MAX + 1];
  int width = MIN (term_columns (), LINE_MAX) - 1, fixed, nbar, len;
  double frac = p->total ? (double) p->done / (double) p->total : 1.0;
  const char *label = p->label;

  format_tail (p, now - p->start, tail, sizeof tail);
  snprintf (pct, sizeof pct, "%5.1f%%", frac * 100.0);
  /* label " " pct " [" bar "] " tail */
  fixed = (int) (strlen (label) + 1 + strlen (pct) + 4 + strlen (tail));
  nbar = MIN (width - fixed, BAR_MAX);
  if (nbar >= 5) {
    int filled = (int) (frac * nbar);
    memset (bar, '#', (size_t) filled);
    memset (bar + filled, ' ', (size_t) (nbar - filled));
    bar[nbar] = '\0';
    len = snprintf (line, sizeof line, "%s %s [%s] %s", label, pct, bar,
                    tail);
  }
  else if (width - fixed + (int) strlen (label) + 4 >= 0)
    len = snprintf (line, sizeof line, "%s %s", pct, tail);
  else
    len = snprintf (line, sizeof line, "%s", pct);
  len = MIN (MAX (len, 0), width);
  line[len] = '\0';
  fprintf (stderr, "\r%s%*s", line, MAX (p->drawn_len - len, 0), "");
  if (p->drawn_len > len)       /* back over the padding */
    fprintf (stderr, "\r%s", line);
  fflush (stderr);
  p->drawn_len = len;
  p->last_draw = now;
}

void
tool_progress_init (struct tool_progress *p, const char *label,
                    int requested)
{
  memset (p, 0, sizeof *p);
  p->label = label;
  p->enabled = requested && isatty (STDERR_FILENO);
  p->last_permille = -1;
  p->start = now_s ();
}

int
tool_progress_cb (void *opaque, uint64_t done, uint64_t total)
{
  struct tool_progress *p = opaque;
  int permille;
  double now;

  if (p == NULL || !p->enabled)
    return 0;
  p->done = MIN (done, total);
  p->total = total;
  permille = total == 0 ? 1000
    : (int) ((double) p->done * 1000.0 / (double) total);
  if (permille == p->last_permille)
    return 0;
  now = now_s ();
  if (permille < 1000 && p->last_permille >= 0
      && now - p->last_draw < REDRAW_S)
    return 0;
  p->last_permille = permille;
  draw (p, now);
  return 0;
}

void
tool_progress_end (struct tool_progress *p)
{
  if (!p->enabled || p->last_permille < 0)
    return;
  if (p->done >= p->total && p->last_permille < 1000)
    draw (p, now_s ());         /* the time taken, if not drawn yet */
  fputc ('\n', stderr);
  fflush (stderr);
}
