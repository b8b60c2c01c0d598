#!/usr/bin/env bash
# build.sh - builds the libFuzzer targets tests/fuzz/*_fuzz.c with clang into build/fuzz/.
#
# Every project source is compiled here with clang and coverage + ASan + UBSan
# instrumentation (never the gcc objects of the main build), incrementally: an object is
# rebuilt when its source or a header it includes changed, or when the flags changed.
#   FUZZ_OUT=DIR      output folder (default build/fuzz); targets are DIR/<name>
#   FUZZ_TARGETS="a b" build (and run) only these targets (names without .c)
#   FUZZ_SECONDS=N    after building, fuzz each target N seconds over DIR/corpus/<name>
#                     (seeded from tests/fuzz/corpus/<name>); exits 1 on a crash, the input
#                     is then in DIR/artifacts/
#   FUZZ_JOBS=N       parallel compiles (default: number of CPUs)
#   CLANG=clang-14    the compiler (default: clang-14 when present, else clang)
# common/ and the generated protobuf code must compile. aggregator/, exporters/ and agent/
# sources that do not compile right now are left out with a warning; a target that needs
# them then fails to link and the script fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
OUT=${FUZZ_OUT:-build/fuzz}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CLANG=${CLANG:-$(command -v clang-14 || command -v clang || true)}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
PKGS="libprotobuf-c rocksdb libmicrohttpd libcurl inih jansson libzstd libisal gnutls libsystemd"

die() { echo "fuzz build: $*" >&2; exit 1; }
[ -n "$CLANG" ] || die "clang not found (apt-get install clang-14)"
command -v protoc-c >/dev/null || die "protoc-c not found"
pkg_cflags=$(pkg-config --cflags $PKGS) || die "pkg-config failed for: $PKGS"
pkg_libs=$(pkg-config --libs $PKGS) || die "pkg-config failed for: $PKGS"

# libFuzzer must be there: a missing runtime is an error, never a silent skip.
probe=$OUT/.probe
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
"$CLANG" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" 2>"$probe.log" ||
    die "$CLANG cannot link -fsanitize=fuzzer,address,undefined (libFuzzer missing?): $(cat "$probe.log")"
rm -f "$probe" "$probe.c" "$probe.log"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 $SAN -fsanitize=fuzzer-no-link -I. -I$OUT/proto $pkg_cflags"
OWN_WARN="-Wall -Wextra -Werror"
LDFLAGS="$SAN -fsanitize=fuzzer"
LDLIBS="$pkg_libs -lcsv -lcrypto -lz -lsnappy -lm -lpthread"

# Objects built with other flags or another compiler are thrown away.
stamp="$("$CLANG" --version | head -1) | $CFLAGS | $OWN_WARN"
if [ "$(cat "$OUT/.flags" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "${OUT:?}/obj" "${OUT:?}/lib"
    printf '%s\n' "$stamp" >"$OUT/.flags"
fi
mkdir -p "$OUT/obj" "$OUT/lib" "$OUT/proto" "$OUT/log"

# --- generated protobuf code --------------------------------------------------------------
for proto in proto/*.proto; do
    gen=$OUT/proto/$(basename "$proto" .proto).pb-c.c
    if [ ! -f "$gen" ] || [ "$proto" -nt "$gen" ]; then
        echo "  PROTOC  $proto -> $OUT/proto"
        protoc-c --proto_path=proto --c_out="$OUT/proto" "$proto" || die "protoc-c failed"
    fi
done

# --- objects ------------------------------------------------------------------------------
# obj_of SRC: the object path of a source (sources under $OUT keep their path below it).
obj_of() {
    local s=${1#"$OUT"/}
    echo "$OUT/obj/${s%.c}.o"
}

# stale SRC OBJ: true when OBJ is missing or older than SRC or any file in its .d list.
stale() {
    local src=$1 obj=$2 dep
    [ -f "$obj" ] && [ -f "${obj%.o}.d" ] || return 0
    [ "$src" -nt "$obj" ] && return 0
    for dep in $(sed -e 's/\\$//' -e 's/^[^:]*://' "${obj%.o}.d"); do
        case $dep in *:) continue ;; esac
        [ -e "$dep" ] || return 0
        [ "$dep" -nt "$obj" ] && return 0
    done
    return 1
}

# compile SRC EXTRA_FLAGS: compiles one source; the result code lands in OBJ.rc.
compile() {
    local src=$1 extra=$2 obj
    obj=$(obj_of "$src")
    mkdir -p "$(dirname "$obj")"
    if "$CLANG" $CFLAGS $extra -MMD -MP -MF "${obj%.o}.d" -MT "$obj" -c -o "$obj.tmp" "$src" >"$obj.log" 2>&1; then
        mv "$obj.tmp" "$obj"
        echo 0 >"$obj.rc"
    else
        rm -f "$obj.tmp" "$obj"
        echo 1 >"$obj.rc"
    fi
}

# Compiles every stale source of the list in parallel; prints "  CC  file" for each.
compile_all() {
    local src extra obj running=0
    for src in "$@"; do
        obj=$(obj_of "$src")
        if ! stale "$src" "$obj"; then
            echo 0 >"$obj.rc"
            continue
        fi
        extra=
        case $src in tests/fuzz/*) extra=$OWN_WARN ;; esac
        echo "  CC      ${src#"$root"/}"
        compile "$src" "$extra" &
        running=$((running + 1))
        if [ "$running" -ge "$JOBS" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    wait
}

shopt -s nullglob
common_src=(common/*.c "$OUT/proto/cadre.pb-c.c")
agg_src=()
for f in aggregator/*.c; do [ "$f" = aggregator/main.c ] || agg_src+=("$f"); done
exp_src=(exporters/*.c "$OUT/proto/remote.pb-c.c")
agent_src=()
for f in agent/*.c; do [ "$f" = agent/main.c ] || agent_src+=("$f"); done
targets=()
for f in tests/fuzz/*_fuzz.c; do
    name=$(basename "$f" .c)
    if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qw -- "$name" <<<"$FUZZ_TARGETS"; then continue; fi
    targets+=("$name")
done
[ ${#targets[@]} -gt 0 ] || die "no target in tests/fuzz/*_fuzz.c matches '${FUZZ_TARGETS:-}'"
tools=(tests/fuzz/make_seeds.c)
target_src=()
for t in "${targets[@]}"; do target_src+=("tests/fuzz/$t.c"); done

compile_all "${common_src[@]}" "${agg_src[@]}" "${exp_src[@]}" "${agent_src[@]}" \
    "${target_src[@]}" "${tools[@]}"

failed=0
# archive NAME REQUIRED SRC...: puts the compiled objects into OUT/lib/libNAME.a. A source that
# did not compile is fatal when REQUIRED, else reported and left out.
archive() {
    local name=$1 required=$2 src obj objs=()
    shift 2
    for src in "$@"; do
        obj=$(obj_of "$src")
        if [ "$(cat "$obj.rc" 2>/dev/null)" = 0 ]; then
            objs+=("$obj")
            continue
        fi
        sed 's/^/    | /' "$obj.log" | head -n 30 >&2
        if [ "$required" = 1 ]; then
            echo "fuzz build: ${src#"$root"/} does not compile" >&2
            failed=1
        else
            echo "fuzz build: WARNING: ${src#"$root"/} does not compile; left out of lib$name.a" >&2
        fi
    done
    # Rewritten only when its content changes (ar is deterministic), so links stay cached.
    local lib="$OUT/lib/lib$name.a"
    rm -f "$lib.tmp"
    if [ ${#objs[@]} -eq 0 ]; then
        rm -f "$lib"
    elif ar rcs "$lib.tmp" "${objs[@]}" && cmp -s "$lib.tmp" "$lib"; then
        rm -f "$lib.tmp"
    else
        mv "$lib.tmp" "$lib"
    fi
    return 0
}
archive common 1 "${common_src[@]}"
archive aggregator 0 "${agg_src[@]}"
archive exporters 0 "${exp_src[@]}"
archive agent 0 "${agent_src[@]}"
[ "$failed" = 0 ] || die "common/ or the protobuf code does not compile"

# Archives in dependency order: a target pulls in only the members it uses.
libs=()
for l in aggregator agent exporters common; do
    [ -f "$OUT/lib/lib$l.a" ] && libs+=("$OUT/lib/lib$l.a")
done

# link NAME OBJ [extra flags]: links OUT/NAME when it is older than one of its inputs.
link() {
    local name=$1 obj=$2 ldflags=$3 bin="$OUT/$1" l need=0
    if [ "$(cat "$obj.rc" 2>/dev/null)" != 0 ]; then
        sed 's/^/    | /' "$obj.log" >&2
        echo "fuzz build: $name does not compile" >&2
        failed=1
        return
    fi
    [ -f "$bin" ] || need=1
    for l in "$obj" "${libs[@]}"; do [ "$l" -nt "$bin" ] && need=1; done
    [ "$need" = 1 ] || return 0
    echo "  LINK    $bin"
    if ! "$CLANG" $ldflags -o "$bin" "$obj" "${libs[@]}" $LDLIBS >"$OUT/log/$name.link" 2>&1; then
        sed 's/^/    | /' "$OUT/log/$name.link" | head -n 30 >&2
        echo "fuzz build: $name does not link" >&2
        rm -f "$bin"
        failed=1
    fi
}
for t in "${targets[@]}"; do link "$t" "$(obj_of "tests/fuzz/$t.c")" "$LDFLAGS"; done
link make_seeds "$(obj_of tests/fuzz/make_seeds.c)" "$SAN"
[ "$failed" = 0 ] || die "some targets failed to build"
echo "fuzz build: ${targets[*]} in $OUT"

[ -n "${FUZZ_SECONDS:-}" ] || exit 0

# --- fuzzing ------------------------------------------------------------------------------
# Each target fuzzes a working corpus in OUT (new inputs land there, never in git) seeded
# from tests/fuzz/corpus/<name>. A crash leaves OUT/artifacts/<name>-crash-* and fails.
# Findings pinned by tests/fuzz/regress/ inputs are let through (see the targets' headers),
# so that a long run looks for new ones; tests/integration/fuzz_smoke.sh runs the pins.
# Both findings the switches once let through are fixed; the switches stay off.
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
mkdir -p "$OUT/artifacts"
crashed=()
for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t"
    args=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
        -artifact_prefix="$OUT/artifacts/$t-")
    [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
    echo "  FUZZ    $t for ${FUZZ_SECONDS}s"
    if TMPDIR=${TMPDIR:-/tmp} "$OUT/$t" "${args[@]}" "$OUT/corpus/$t" "tests/fuzz/corpus/$t" \
        >"$OUT/log/$t.fuzz" 2>&1; then
        grep -aE '^(stat::number_of_executed_units|stat::peak_rss_mb)|DONE +cov' "$OUT/log/$t.fuzz" |
            sed 's/^/    /'
    else
        crashed+=("$t")
        echo "    CRASH: $t (log $OUT/log/$t.fuzz)"
        grep -aE '_fuzz: |ERROR|SUMMARY|runtime error|Test unit written' "$OUT/log/$t.fuzz" | head -n 8 |
            sed 's/^/    | /'
    fi
done
[ ${#crashed[@]} -eq 0 ] || die "crashes in: ${crashed[*]}"
echo "fuzz: no crash in ${targets[*]}"
