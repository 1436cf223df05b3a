/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vm_basic_types.h - the few basic types the VDDK's headers use.
 *
 * Programs written against VMware's VDDK include vixDiskLib.h, which
 * pulls in a header of this name for uint8 .. uint64 and Bool.  vdk's
 * compatibility headers define the same names (with the same sizes:
 * Bool is a char) so such programs compile unchanged.  Every definition
 * is guarded, so a program that has its own keeps it. */
#ifndef VDK_VM_BASIC_TYPES_H
#define VDK_VM_BASIC_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifndef VDK_VM_BASIC_TYPES_DEFINED
#define VDK_VM_BASIC_TYPES_DEFINED
typedef uint8_t uint8;
typedef uint16_t uint16;
typedef uint32_t uint32;
typedef uint64_t uint64;
typedef int8_t int8;
typedef int16_t int16;
typedef int32_t int32;
typedef int64_t int64;
#endif

#ifndef _BOOL_DEFINED
#define _BOOL_DEFINED
typedef char Bool;
#endif

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#endif /* VDK_VM_BASIC_TYPES_H */
