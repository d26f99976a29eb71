#!/bin/sh
# Installs the build into a temporary directory, then builds the README's C
# example (examples/batch_example.c) with pkg-config against the installed
# library and runs it. Last, it builds a program against the header alone
# (SAFEEXEC_WEAK) and runs it with and without LD_PRELOAD.
# Usage: test_api_install.sh SOURCE_ROOT BUILD_ROOT
set -eu
# meson test points this at the build tree, which would hide the installed library.
unset LD_LIBRARY_PATH

source_root=$1
build_root=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/safeexec-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

meson install -C "$build_root" --no-rebuild --quiet --destdir "$work/root" >"$work/install.log" 2>&1 \
	|| { cat "$work/install.log" >&2; fail "meson install failed"; }

pc_file=$(find "$work/root" -name safeexec.pc | head -n 1)
[ -n "$pc_file" ] || fail "safeexec.pc was not installed"
prefix=$(sed -n 's/^prefix=//p' "$pc_file")
export PKG_CONFIG_PATH="$(dirname "$pc_file")"
pkg_config() {
	pkg-config --define-variable=prefix="$work/root$prefix" "$@" safeexec
}
flags=$(pkg_config --cflags --libs) || fail "pkg-config cannot resolve safeexec"
libdir=$(pkg_config --variable=libdir)
echo "pkg-config: $flags"
case "$flags" in
*-lsafeexec*) ;;
*) fail "pkg-config --libs lacks -lsafeexec: $flags" ;;
esac
[ -f "$libdir/libsafeexec.so" ] || fail "no libsafeexec.so in $libdir"
[ -f "$work/root$prefix/include/safeexec.h" ] || fail "safeexec.h was not installed"

# shellcheck disable=SC2086 # flags is a list of compiler arguments
cc -std=c11 -Wall -Wextra -Werror -o "$work/batch_example" \
	"$source_root/examples/batch_example.c" $flags -Wl,-rpath,"$libdir" \
	|| fail "examples/batch_example.c does not build with pkg-config flags"
ldd "$work/batch_example" | grep -q "$libdir/libsafeexec.so" \
	|| fail "batch_example does not load the installed libsafeexec.so"
SAFEEXEC_LOG_LEVEL=info "$work/batch_example" >"$work/example.out" 2>"$work/example.err" \
	|| { cat "$work/example.out" "$work/example.err" >&2; fail "batch_example exited with an error"; }
cat "$work/example.out"
grep -q "^processed 4000 items in " "$work/example.out" \
	|| fail "batch_example did not process every item"
grep -q "Processing batch 1/" "$work/example.err" \
	|| fail "batch_example logged no batch progress"
grep -q "API summary for pid" "$work/example.err" \
	|| fail "safeexec_shutdown logged no summary"

# Header only, library by LD_PRELOAD: the weak declarations must resolve to NULL without it.
cat >"$work/weak.c" <<'PROGRAM'
#define SAFEEXEC_WEAK
#include <stdio.h>
#include <safeexec.h>

int
main(void)
{
	struct safeexec_status status;

	if (!safeexec_available()) {
		printf("unavailable\n");
		return 0;
	}
	if (safeexec_status(&status) != 0) {
		return 1;
	}
	printf("available active=%d\n", status.shim_active);
	return 0;
}
PROGRAM
cc -std=c11 -Wall -Wextra -Werror $(pkg_config --cflags) -o "$work/weak" "$work/weak.c" \
	|| fail "a SAFEEXEC_WEAK program does not build without -lsafeexec"
[ "$("$work/weak")" = "unavailable" ] || fail "safeexec_available() is true without the library"
[ "$(LD_PRELOAD="$libdir/libsafeexec.so" "$work/weak")" = "available active=1" ] \
	|| fail "safeexec_available() is false with the library preloaded"
echo "PASS"
