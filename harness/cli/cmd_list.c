/* cmd_list.c: `attnbench list`: every registered kernel, what it can do, whether it runs here. */
#include <stdio.h>
#include <string.h>
#include "attn.h"
#include "cli/commands.h"
#include "core/peer.h"
#include "core/tunables.h"

static const char usage_text[] =
    "usage: attnbench list [--markdown]\n"
    "\n"
    "Kernels in registry order: name, ISA class, capabilities, available here (or why\n"
    "not: the missing CPU features, \"cpu lacks avx512f, avx512bw\"), the CPU features it\n"
    "requires, description, and its tunables (config key, allowed range, and as \"here\"\n"
    "the default this machine's caches give at head_dim 64; wisdom from `attnbench tune`\n"
    "overrides it in runs). Then the peers (programs the harness runs like kernels,\n"
    "docs/peers.md): name, capabilities, available here (or why not: \"python3 cannot\n"
    "import torch: run make peers\"), program. --markdown prints the tables README.md\n"
    "carries.\n";

static void caps_string(unsigned caps, char *buf, size_t n)
{
    buf[0] = 0;
    for (int b = 0; b < ATTN_CAP_COUNT; b++)
        if (caps & (1u << b)) {
            if (buf[0]) strncat(buf, ",", n - strlen(buf) - 1);
            strncat(buf, attn_cap_name(1u << b), n - strlen(buf) - 1);
        }
}

/* "tile_q 16..1024 step 16 (here 32), tile_k 16..1024 step 16 (here 128)": each tunable's
 * range and the default this machine's caches give at head_dim 64; "" for none. */
static void tunables_string(const attn_kernel *k, char *buf, size_t n)
{
    attn_problem p;
    memset(&p, 0, sizeof p);
    p.D = p.Dv = 64;
    int def[ATTN_TUNE_COUNT];
    attn_tune_defaults(k, &p, attn_machine_caches(), def);
    size_t len = 0;
    buf[0] = 0;
    for (int t = 0; t < ATTN_TUNE_COUNT && len < n; t++) {
        const attn_tune_range r = k->tune[t];
        if (r.step > 0)
            len += (size_t)snprintf(buf + len, n - len, "%s%s %d..%d step %d (here %d)", len ? ", " : "",
                                    attn_tune_names[t], r.min, r.max, r.step, def[t]);
    }
}

/* The peers: named in configs like kernels, never selected by `kernels = *`. */
static void list_peers(int md)
{
    int n;
    const attn_peer *ps = attn_peers(&n);
    printf(md ? "\n| peer | capabilities | program | description |\n|---|---|---|---|\n"
              : "\n%-16s %-8s %-10s %s\n", "peer", "", "available", "capabilities / description");
    for (int i = 0; i < n; i++) {
        const attn_peer *p = &ps[i];
        char caps[256], why[256];
        caps_string(p->k.caps, caps, sizeof caps);
        if (md) {
            printf("| `%s` | %s | `%s` | %s |\n", p->k.name, caps, p->program, p->k.desc);
            continue;
        }
        int ok = attn_peer_available(p, why, sizeof why);
        printf("%-16s %-8s %-10s %s\n%-36s program: %s\n%-36s %s\n", p->k.name, "peer",
               ok ? "yes" : "no", caps, "", p->program, "", ok ? p->k.desc : why);
    }
}

int attn_cmd_list(int argc, char **argv)
{
    int md = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usage_text, stdout); return 0; }
        if (!strcmp(argv[i], "--markdown")) { md = 1; continue; }
        fprintf(stderr, "attnbench list: unknown option '%s'\n%s", argv[i], usage_text);
        return 2;
    }
    int n;
    const attn_kernel *ks = attn_kernels(&n);
    if (md) {
        printf("| kernel | ISA | capabilities | description |\n|---|---|---|---|\n");
    } else {
        printf("%-16s %-8s %-10s %s\n", "kernel", "isa", "available", "capabilities / description");
    }
    for (int i = 0; i < n; i++) {
        const attn_kernel *k = &ks[i];
        char caps[256];
        caps_string(k->caps, caps, sizeof caps);
        const char *why = "";
        int ok = attn_kernel_usable(k, &why);
        if (md)
            printf("| `%s` | %s | %s | %s |\n", k->name, k->library_isa ? "library" : attn_isa_name(k->isa),
                   caps, k->desc);
        else
        {
            char req[256];
            attn_features_string(k->requires, req, sizeof req);
            char tun[256];
            tunables_string(k, tun, sizeof tun);
            printf("%-16s %-8s %-10s %s\n%-36s requires: %s\n%-36s %s\n", k->name,
                   attn_isa_name(k->isa), ok ? "yes" : "no", caps, "", req[0] ? req : "-", "",
                   ok ? k->desc : why);
            if (tun[0]) printf("%-36s tunables: %s\n", "", tun);
        }
    }
    list_peers(md);
    return 0;
}
