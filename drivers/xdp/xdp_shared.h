/* Shared between idpath_xdp.bpf.c (the kernel side) and xdp_loader.cpp: map layouts and the
 * counter indices. Plain C so both compilers read the same definitions. */
#ifndef IDPATH_XDP_SHARED_H
#define IDPATH_XDP_SHARED_H

/* The program name the loader uses to recognise a stale idpath program (BPF_OBJ_NAME_LEN is 16). */
#define IDPATH_XDP_PROG_NAME "idpath_xdp"

/* Capacity of the service-port map and of the XSKMAP (one slot per RX queue). */
#define IDPATH_XDP_MAX_PORTS 16
#define IDPATH_XDP_MAX_QUEUES 256

/* Index into idpath_config: what to do with service UDP whose queue has no AF_XDP socket. */
#define IDPATH_XDP_CONFIG_FALLBACK 0
#define IDPATH_XDP_CONFIG_COUNT 1

/* Per-CPU counters, one slot each; every packet increments exactly one. */
enum idpath_xdp_counter {
    IDPATH_XDP_REDIRECTED = 0,   /* service UDP handed to an AF_XDP socket */
    IDPATH_XDP_NO_SOCKET = 1,    /* service UDP, but no socket on this queue: fallback applied */
    IDPATH_XDP_PASS_NOT_IP = 2,  /* ARP, LLDP, ... */
    IDPATH_XDP_PASS_NOT_UDP = 3, /* ICMP, NDP, TCP, IPv6 extension headers, ... */
    IDPATH_XDP_PASS_OTHER_PORT = 4,
    IDPATH_XDP_PASS_FRAGMENT = 5,
    IDPATH_XDP_PASS_MALFORMED = 6, /* truncated headers: the kernel decides */
    IDPATH_XDP_COUNTER_COUNT = 7,
};

#endif
