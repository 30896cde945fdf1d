/* fuzz_config.c: libFuzzer target for the config reader (core/config.c): any bytes as an
 * INI file must give cases or a FILE:LINE error, never a crash, a hang or a leak.
 * Built and run by `make fuzz` (scripts/fuzz.sh); inputs it found are kept in
 * tests/fuzz/regress/config/ and replayed by tests/test_fuzz_regress.c in `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) fd = memfd_create("fuzz.ini", 0);
    if (fd < 0) return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    attn_caselist l = { 0 };
    if (attn_config_load(path, NULL, &l) == 0) attn_caselist_free(&l);
    return 0;
}
