/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NBD subcommands of `vdk` (tools/cmd-serve.c, tools/cmd-ticket.c).
 * argv[0] is the subcommand name; each returns the exit status. */
#ifndef VDK_CMD_SERVE_H
#define VDK_CMD_SERVE_H

int cmd_serve (int argc, char **argv);
int cmd_ticket (int argc, char **argv);

#endif /* VDK_CMD_SERVE_H */
