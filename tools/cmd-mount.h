/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The volume and mount subcommands of `vdk` (tools/cmd-mount.c).
 * argv[0] is the subcommand name; each returns the exit status.  Also
 * declared in vdk-tool.h; kept here for files that only need these. */
#ifndef VDK_CMD_MOUNT_H
#define VDK_CMD_MOUNT_H

int cmd_volumes (int argc, char **argv);
int cmd_mount (int argc, char **argv);
int cmd_umount (int argc, char **argv);
int cmd_mounts (int argc, char **argv);

#endif /* VDK_CMD_MOUNT_H */
