/* Shared between gun_xdp.bpf.c and xdp_program.cpp: the config map's slots. Plain C so both
 * compilers read the same definitions. */
#ifndef IDPATH_GUN_XDP_SHARED_H
#define IDPATH_GUN_XDP_SHARED_H

#define GUN_XDP_MAX_QUEUES 256

/* Slots of gun_config (__u32 each, host byte order). */
#define GUN_XDP_SERVER_PORT4 0 /* UDP source port of the IPv4 answers; 0: no IPv4 SERVER */
#define GUN_XDP_PORT_FIRST 1   /* our source-port range: the answers' destination ports */
#define GUN_XDP_PORT_LAST 2
#define GUN_XDP_SERVER_PORT6 3 /* UDP source port of the IPv6 answers; 0: no IPv6 SERVER */
#define GUN_XDP_CONFIG_COUNT 4

#endif
