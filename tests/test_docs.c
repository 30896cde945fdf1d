/* test_docs.c: README.md stays in step with the code: its kernel table lists every
 * registered kernel (with its ISA), its peer table every peer, and only those. */
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "core/peer.h"
#include "record/results.h"
#include "test.h"

TEST(docs_readme_kernel_table_matches_registry)
{
    char *readme = attn_read_file("README.md", NULL);
    CHECK_MSG(readme != NULL, "README.md not found (run from the project root)");
    if (!readme) return;
    int nk;
    const attn_kernel *reg = attn_kernels(&nk);
    for (int i = 0; i < nk; i++) {
        char row[128];
        snprintf(row, sizeof row, "| `%s` | %s |", reg[i].name,     /* blas: "library" */
                 reg[i].library_isa ? "library" : attn_isa_name(reg[i].isa));
        CHECK_MSG(strstr(readme, row) != NULL, "README.md kernel table lacks the row '%s...'", row);
    }
    int np;                             /* and its peer table every peer */
    const attn_peer *peers = attn_peers(&np);
    for (int i = 0; i < np; i++) {
        char row[128];
        snprintf(row, sizeof row, "| `%s` | ", peers[i].k.name);
        CHECK_MSG(strstr(readme, row) != NULL, "README.md peer table lacks the row '%s...'", row);
    }
    /* every row of the tables (in the "## Kernels" section) names a kernel or a peer */
    char *sec = strstr(readme, "\n## Kernels\n");
    CHECK(sec != NULL);
    if (!sec) { free(readme); return; }
    char *end = strstr(sec + 1, "\n## ");
    if (end) *end = '\0';
    for (const char *p = strstr(sec, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
        char name[64] = "";
        if (sscanf(p, "\n| `%63[^`]`", name) == 1 && strstr(p, "` | ") == p + 4 + strlen(name))
            CHECK_MSG(attn_runnable_find(name) != NULL, "README.md lists '%s', which is not registered", name);
    }
    free(readme);
}
