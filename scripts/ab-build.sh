#!/bin/sh
# ab-build.sh BASE_REV NEW_REV [DIR]: build two git revisions of attnbench side by side
# for `attnbench ab`, and print the two binaries' paths (base first).
#
#   bins=$(scripts/ab-build.sh origin/main HEAD /tmp/ab)
#   set -- $bins; build/attnbench ab configs/ci.ini --base "$1" --new "$2"
#
# Each revision is checked out with `git worktree add --detach` under DIR/src-base and
# DIR/src-new (DIR default: build/ab) and built there with its own Makefile, so neither
# touches this checkout. NEW_REV may be "WORKTREE" for this checkout as it is, uncommitted
# changes included (built into DIR/build-new). Both builds must know `run --case`.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BASE_REV NEW_REV [DIR]" >&2; exit 2; }
base=$1 new=$2 dir=${3:-build/ab}
top=$(git rev-parse --show-toplevel)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

build_rev() {   # build_rev SIDE REV: prints the binary
    side=$1 rev=$2
    if [ "$rev" = WORKTREE ]; then
        make -C "$top" -j"$(nproc)" BUILD="$dir/build-$side" "$dir/build-$side/attnbench" >&2
        echo "$dir/build-$side/attnbench"
        return
    fi
    src=$dir/src-$side
    if [ -d "$src" ]; then
        git -C "$src" checkout -q --detach "$rev" >&2
    else
        git -C "$top" worktree add -q --detach "$src" "$rev" >&2
    fi
    make -C "$src" -j"$(nproc)" >&2
    echo "$src/build/attnbench"
}

b=$(build_rev base "$base")
n=$(build_rev new "$new")
for bin in "$b" "$n"; do
    if ! "$bin" run --help | grep -q -- '--case'; then
        echo "$0: $bin predates 'run --case' and cannot take part in attnbench ab" >&2
        exit 2
    fi
done
echo "$b"
echo "$n"
