#!/bin/sh
# Builds static Windows libraries of libuv and inih from Debian's source
# packages, with mingw-w64, into PREFIX (default: build-win-deps/prefix).
# Debian's binary packages are Linux builds, hence the sources. The apt
# configuration of the machine is left alone: a private deb-src list is used.
# Usage: cmake/win/build-deps.sh [WORKDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/build-win-deps}
prefix=$work/prefix
mkdir -p "$work" "$prefix/include" "$prefix/lib"
if [ -f "$prefix/lib/libuv_a.a" ] && [ -f "$prefix/lib/libinih.a" ]; then
    echo "win deps: cached in $prefix"
    exit 0
fi
cd "$work"

# A deb-src list for bookworm (libuv1) and one for trixie: bookworm's
# libinih source files are gone from the archive.
sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > deb-src.sources
sed 's/^Suites: .*/Suites: trixie/' deb-src.sources | awk '/^Suites: trixie/ && seen++ {next} {print}' \
    > deb-src-trixie.sources
# Keep only the first stanza of the trixie list (the main archive).
awk 'BEGIN{RS="";ORS="\n\n"} NR==1' deb-src-trixie.sources > t && mv t deb-src-trixie.sources
for list in deb-src deb-src-trixie; do
    mkdir -p "lists-$list/partial"
    apt-get -q -o Dir::Etc::sourcelist="$work/$list.sources" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$work/lists-$list" -o APT::Sandbox::User=root update >/dev/null
done
aptsrc() {
    list=$1; shift
    apt-get -q -o Dir::Etc::sourcelist="$work/$list.sources" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$work/lists-$list" -o APT::Sandbox::User=root "$@"
}
[ -d libuv ] || { aptsrc deb-src source --download-only libuv1 >/dev/null && \
                  dpkg-source -x libuv1_*.dsc libuv >/dev/null; }
[ -d inih ] || { aptsrc deb-src-trixie source --download-only libinih >/dev/null && \
                 dpkg-source -x libinih_*.dsc inih >/dev/null; }

cmake -S libuv -B libuv-build -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-mingw64.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF >/dev/null
cmake --build libuv-build --target uv_a -j2 >/dev/null
cp libuv-build/libuv_a.a "$prefix/lib/"
cp -r libuv/include/* "$prefix/include/"

x86_64-w64-mingw32-gcc-posix -O2 -c inih/ini.c -o inih.o
x86_64-w64-mingw32-ar rcs "$prefix/lib/libinih.a" inih.o
cp inih/ini.h "$prefix/include/"
echo "win deps: built into $prefix"
