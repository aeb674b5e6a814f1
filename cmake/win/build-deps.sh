#!/bin/sh
# Builds static Windows libraries of libuv and inih from Debian's source
# packages, with mingw-w64, into PREFIX (default: build-win-deps/prefix).
# Debian's binary packages are Linux builds, hence the sources. The apt
# configuration of the machine is left alone: private deb-src lists are used.
# Usage: cmake/win/build-deps.sh [WORKDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/build-win-deps}
mkdir -p "$work"
work=$(cd "$work" && pwd) # absolute: apt is given paths below it after the cd
prefix=$work/prefix
mkdir -p "$prefix/include" "$prefix/lib"
if [ -f "$prefix/lib/libuv_a.a" ] && [ -f "$prefix/lib/libinih.a" ]; then
    echo "win deps: cached in $prefix"
    exit 0
fi
cd "$work"

# The deb-src lists are derived from the repositories apt actually uses
# (`apt-get indextargets`: enabled entries only, whatever file or format
# declares them), plus deb.debian.org in case those mirror binaries only.
# Keyrings named by Signed-By anywhere in the apt configuration are passed
# on, so a mirror with its own key verifies as it does for binaries.
keyrings=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
               /etc/apt/sources.list.d/*.sources 2>/dev/null |
           sed -n -e 's/^Signed-By:[[:space:]]*\(\/[^[:space:]]*\).*/\1/p' \
                  -e 's/.*signed-by=\([^] ]*\).*/\1/p' | tr ',' '\n' |
           while read -r k; do [ -f "$k" ] && echo "$k"; done | sort -u | paste -sd, -)
opts=${keyrings:+"[signed-by=$keyrings] "}
repos=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
        sort -u)
# A list per suite wanted: bookworm has libuv1; bookworm's libinih source
# files are gone from the archive, trixie's are there.
make_list() {  # suite -> one-line sources list on stdout
    { printf '%s\n' "$repos" | awk -v s="$1" '$2 ~ "^bookworm$" {print $1}'
      echo http://deb.debian.org/debian/; } | awk '!seen[$0]++' |
    while read -r uri; do echo "deb-src ${opts}$uri $1 main"; done
}
aptsrc() {
    list=$1; shift
    apt-get -q -o Dir::Etc::sourcelist="$work/$list.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$work/lists-$list" -o APT::Sandbox::User=root "$@"
}
diagnose() {
    echo "win deps: $1" >&2
    echo "--- apt sources on this machine:" >&2
    ls -l /etc/apt/sources.list /etc/apt/sources.list.d/ >&2 2>&1 || true
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources >&2 2>/dev/null || true
    echo "--- apt-get indextargets:" >&2; printf '%s\n' "$repos" >&2
    for l in bookworm trixie; do echo "--- $l.list:" >&2; cat "$l.list" >&2 || true
        echo "--- update $l:" >&2; cat "update-$l.log" >&2 || true; done
    exit 1
}
for suite in bookworm trixie; do
    make_list $suite > $suite.list
    mkdir -p "lists-$suite/partial"
    # Warnings for one unreachable mirror are expected when another serves.
    aptsrc $suite update > "update-$suite.log" 2>&1 || true
done
fetch() {  # list package dir
    [ -d "$3" ] && return 0
    aptsrc "$1" source --download-only "$2" > "fetch-$2.log" 2>&1 ||
        { cat "fetch-$2.log" >&2; diagnose "cannot download the source of $2 ($1)"; }
    dpkg-source -x "$2"_*.dsc "$3" >/dev/null 2>&1
}
quiet() {  # run a build step; show its output only when it fails
    "$@" > build.log 2>&1 || { cat build.log >&2; exit 1; }
}
fetch bookworm libuv1 libuv
fetch trixie libinih inih

quiet cmake -S libuv -B libuv-build -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-mingw64.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
quiet cmake --build libuv-build --target uv_a -j2
cp libuv-build/libuv_a.a "$prefix/lib/"
cp -r libuv/include/* "$prefix/include/"

quiet x86_64-w64-mingw32-gcc-posix -O2 -c inih/ini.c -o inih.o
x86_64-w64-mingw32-ar rcs "$prefix/lib/libinih.a" inih.o
cp inih/ini.h "$prefix/include/"
echo "win deps: built into $prefix"
