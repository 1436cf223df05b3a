/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays a libFuzzer corpus without libFuzzer: runs every file named on
 * the command line (or found in a folder named there) through
 * LLVMFuzzerTestOneInput once.  Built for every fuzz target and run as a
 * test in the normal suite, so the seeds also run under ASan/valgrind.
 * Fails if a folder holds no seeds (an empty corpus proves nothing). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long n;

  if (!f || fseek (f, 0, SEEK_END) != 0 || (n = ftell (f)) < 0) {
    fprintf (stderr, "replay: %s: cannot read\n", path);
    if (f)
      fclose (f);
    return -1;
  }
  rewind (f);
  buf = malloc ((size_t) n + 1);
  if (!buf || fread (buf, 1, (size_t) n, f) != (size_t) n) {
    fprintf (stderr, "replay: %s: cannot read\n", path);
    free (buf);
    fclose (f);
    return -1;
  }
  fclose (f);
  LLVMFuzzerTestOneInput (buf, (size_t) n);
  free (buf);
  return 0;
}

static int
run_dir (const char *dir, int *count)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  if (!d) {
    fprintf (stderr, "replay: %s: cannot open folder\n", dir);
    return -1;
  }
  while ((de = readdir (d)) != NULL) {
    char path[4096];
    if (de->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s", dir, de->d_name);
    if (run_file (path) == -1) {
      closedir (d);
      return -1;
    }
    (*count)++;
  }
  closedir (d);
  return 0;
}

int
main (int argc, char **argv)
{
  int count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat (argv[i], &st) == -1) {
      fprintf (stderr, "replay: %s: not found\n", argv[i]);
      return 1;
    }
    if (S_ISDIR (st.st_mode) ? run_dir (argv[i], &count) == -1
        : (count++, run_file (argv[i]) == -1))
      return 1;
  }
  if (count == 0) {
    fprintf (stderr, "replay: no seeds found\n");
    return 1;
  }
  printf ("replayed %d inputs\n", count);
  return 0;
}
