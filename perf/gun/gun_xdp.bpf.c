// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* idpath-gun's XDP program: the answers (UDP from the server port of their family to one of our
 * source ports; an IPv4/IPv6 mix has a server of each family, one family has only one) go to the
 * AF_XDP socket of the receiving queue; everything else (ARP, NDP, ICMP, other UDP,
 * fragments) passes to the kernel, so the interface keeps resolving neighbours and answering
 * pings while the generator runs. drivers/xdp's program steers by destination port only (a set
 * of service ports), which cannot express a source-port range: hence this one. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gun_xdp_shared.h"

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, GUN_XDP_MAX_QUEUES);
    __type(key, __u32);
    __type(value, __u32);
} gun_xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, GUN_XDP_CONFIG_COUNT);
    __type(key, __u32);
    __type(value, __u32);
} gun_config SEC(".maps");

static __always_inline __u32 config(__u32 slot)
{
    __u32 *v = bpf_map_lookup_elem(&gun_config, &slot);
    return v ? *v : 0;
}

static __always_inline int steer(struct xdp_md *ctx, const struct udphdr *udp, __u32 server_port_slot)
{
    __u16 dport = bpf_ntohs(udp->dest);
    __u32 server_port = config(server_port_slot);
    /* 0: no server of this family, so nothing of it is an answer (a source port 0 included). */
    if (server_port == 0 || bpf_ntohs(udp->source) != server_port || dport < config(GUN_XDP_PORT_FIRST) ||
        dport > config(GUN_XDP_PORT_LAST))
        return XDP_PASS;
    /* No socket on this queue (fewer --queues than the interface has): the kernel drops it. */
    return bpf_redirect_map(&gun_xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int gun_xdp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
            return XDP_PASS;
        if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset: the kernel reassembles */
            return XDP_PASS;
        struct udphdr *udp = (void *)ip + ip->ihl * 4;
        if ((void *)(udp + 1) > data_end)
            return XDP_PASS;
        return steer(ctx, udp, GUN_XDP_SERVER_PORT4);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        struct udphdr *udp = (void *)(ip6 + 1);
        if ((void *)(udp + 1) > data_end)
            return XDP_PASS;
        return steer(ctx, udp, GUN_XDP_SERVER_PORT6);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
