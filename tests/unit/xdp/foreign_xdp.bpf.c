// SPDX-License-Identifier: GPL-2.0
/* A program that is not idpath's, for the test that attach refuses to replace it unforced. */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int foreign_xdp(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
