#!/bin/sh
# install-deps.sh: make sure the libraries and tools attnbench needs are present.
# Idempotent: prints nothing and exits 0 when everything is there. Uses apt-get, dnf or
# brew when it can; otherwise prints the exact command to run and exits 1.
# Required: make, inih (INI parser), cJSON (JSON reader). Optional: gnuplot (charts only),
# OpenBLAS with its CBLAS header (the blas kernel; without it blas is listed unavailable).
set -u

have_header() {  # have_header HEADER: can the C compiler include it?
    printf '#include <%s>\nint main(void){return 0;}\n' "$1" |
        ${CC:-cc} -x c - -fsyntax-only -I/usr/include/cjson 2>/dev/null
}

have_openblas() {  # OpenBLAS's cblas.h and library, as the Makefile looks for them
    printf '#include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n' |
        ${CC:-cc} -x c - -o /dev/null $(pkg-config --cflags openblas 2>/dev/null) \
            $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) >/dev/null 2>&1
}

missing=""
command -v make >/dev/null 2>&1 || missing="$missing make"
have_header ini.h || missing="$missing inih"
have_header cjson/cJSON.h || missing="$missing cjson"
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot"
have_openblas || missing="$missing openblas"
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"

pkgs() {  # pkgs MANAGER: package names for what is missing
    out=""
    for m in $missing; do
        case "$1:$m" in
            apt:inih) out="$out libinih-dev" ;;     apt:cjson) out="$out libcjson-dev" ;;
            apt:gnuplot) out="$out gnuplot-nox" ;;   apt:make) out="$out make" ;;
            apt:openblas) out="$out libopenblas-dev pkg-config" ;;
            dnf:inih) out="$out inih-devel" ;;      dnf:cjson) out="$out cjson-devel" ;;
            dnf:gnuplot) out="$out gnuplot" ;;      dnf:make) out="$out make" ;;
            dnf:openblas) out="$out openblas-devel pkgconf-pkg-config" ;;
            brew:inih) out="$out inih" ;;           brew:cjson) out="$out cjson" ;;
            brew:gnuplot) out="$out gnuplot" ;;     brew:make) out="$out make" ;;
            brew:openblas) out="$out openblas pkg-config" ;;
        esac
    done
    echo "$out"
}

echo "install-deps: missing:$missing" >&2
if command -v apt-get >/dev/null 2>&1; then
    cmd="$SUDO apt-get install -y --no-install-recommends$(pkgs apt)"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $cmd; } >&2 || true
elif command -v dnf >/dev/null 2>&1; then
    cmd="$SUDO dnf install -y$(pkgs dnf)"
    $cmd >&2 || true
elif command -v brew >/dev/null 2>&1; then
    cmd="brew install$(pkgs brew)"
    $cmd >&2 || true
else
    cmd="(no apt-get, dnf or brew found) install: inih and cJSON development files, gnuplot, OpenBLAS development files"
fi

status=0
command -v make >/dev/null 2>&1 || status=1
have_header ini.h || status=1
have_header cjson/cJSON.h || status=1
if [ $status -ne 0 ]; then
    echo "install-deps: could not install what the build needs; run this, then make again:" >&2
    echo "    $cmd" >&2
    exit 1
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "install-deps: gnuplot is missing: charts will be skipped; to get them run:" >&2
    echo "    $cmd" >&2
fi
if ! have_openblas; then
    echo "install-deps: OpenBLAS (CBLAS) is missing: the blas kernel will be unavailable; to get it run:" >&2
    echo "    $cmd" >&2
fi
exit 0
