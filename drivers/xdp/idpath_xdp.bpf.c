// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* idpath's XDP program: UDP to a service port goes to the AF_XDP socket of the receiving queue;
 * everything else (ARP, NDP, ICMP, TCP, SSH, fragments, malformed) passes to the kernel, so the
 * host stays reachable and the TCP listener keeps working on the same NIC. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_shared.h"

/* DPDK's net_af_xdp (xdp_prog=) looks this map up by name and inserts its sockets by queue. */
struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, IDPATH_XDP_MAX_QUEUES);
    __type(key, __u32);
    __type(value, __u32);
} xsks_map SEC(".maps");

/* Key: UDP destination port in host byte order; value unused. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IDPATH_XDP_MAX_PORTS);
    __type(key, __u16);
    __type(value, __u8);
} idpath_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, IDPATH_XDP_CONFIG_COUNT);
    __type(key, __u32);
    __type(value, __u32);
} idpath_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, IDPATH_XDP_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} idpath_counters SEC(".maps");

struct vlan_hdr {
    __be16 tci;
    __be16 encapsulated_proto;
};

#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff

static __always_inline int count(__u32 index, int action)
{
    __u64 *value = bpf_map_lookup_elem(&idpath_counters, &index);
    if (value)
        *value += 1;
    return action;
}

static __always_inline int steer_udp(struct xdp_md *ctx, const struct udphdr *udp)
{
    __u16 port = bpf_ntohs(udp->dest);
    if (!bpf_map_lookup_elem(&idpath_ports, &port))
        return count(IDPATH_XDP_PASS_OTHER_PORT, XDP_PASS);

    __u32 key = IDPATH_XDP_CONFIG_FALLBACK;
    __u32 *fallback = bpf_map_lookup_elem(&idpath_config, &key);
    __u64 flags = (fallback && *fallback == XDP_DROP) ? XDP_DROP : XDP_PASS;
    long action = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, flags);
    if (action == XDP_REDIRECT)
        return count(IDPATH_XDP_REDIRECTED, XDP_REDIRECT);
    return count(IDPATH_XDP_NO_SOCKET, (int)flags);
}

SEC("xdp")
int idpath_xdp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
    __u16 proto = eth->h_proto;
    void *l3 = eth + 1;

#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        struct vlan_hdr *vlan = l3;
        if ((void *)(vlan + 1) > data_end)
            return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
        proto = vlan->encapsulated_proto;
        l3 = vlan + 1;
    }

    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = l3;
        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
        if (ip->protocol != IPPROTO_UDP)
            return count(IDPATH_XDP_PASS_NOT_UDP, XDP_PASS);
        /* Only the first fragment carries the UDP header; the kernel reassembles. */
        if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
            return count(IDPATH_XDP_PASS_FRAGMENT, XDP_PASS);
        struct udphdr *udp = (void *)ip + ip->ihl * 4;
        if ((void *)(udp + 1) > data_end)
            return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
        return steer_udp(ctx, udp);
    }
    if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = l3;
        if ((void *)(ip6 + 1) > data_end)
            return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
        /* Extension headers (including fragments) are the kernel's business. */
        if (ip6->nexthdr != IPPROTO_UDP)
            return count(IDPATH_XDP_PASS_NOT_UDP, XDP_PASS);
        struct udphdr *udp = (void *)(ip6 + 1);
        if ((void *)(udp + 1) > data_end)
            return count(IDPATH_XDP_PASS_MALFORMED, XDP_PASS);
        return steer_udp(ctx, udp);
    }
    return count(IDPATH_XDP_PASS_NOT_IP, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
