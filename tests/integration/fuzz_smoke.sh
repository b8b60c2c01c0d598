#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ built with clang and run briefly: every seed and every
# regression input once, then FUZZ_SMOKE_RUNS (10000) mutations from a fixed seed. A crash
# or an invariant violation fails with the input in hex; a missing clang or libFuzzer fails
# too (never a silent skip). Needs no cadre binary. Targets go to $FUZZ_OUT, else
# $BUILD/fuzz (incremental).
. "$(dirname "$0")/lib.sh"
t_setup
root=$(cd "$TESTS_DIR/.." && pwd)
out=${FUZZ_OUT:-${BUILD:-$root/build}/fuzz}
runs=${FUZZ_SMOKE_RUNS:-10000}
export TMPDIR=$T # the targets' scratch files and stores
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failing=()

start=$SECONDS
if FUZZ_OUT=$out bash "$root/tests/fuzz/build.sh" >"$T/build.log" 2>&1; then
    ok "fuzz targets build with clang in $((SECONDS - start))s"
else
    not_ok "fuzz targets do not build (clang, libFuzzer or a source):"
    sed 's/^/    | /' "$T/build.log" | tail -n 40
    t_done
    exit 1
fi

# report LOG PREFIX: prints what the target said about its crash, then the crashing input in
# hex: the file named by the last "Running:" line, else the artifact(s) at PREFIX*.
report() {
    local log=$1 prefix=$2 in f
    grep -aE '_fuzz: |ERROR: |runtime error|SUMMARY|^ +#[0-9]+ 0x[0-9a-f]+ in ' "$log" |
        grep -avE ' in (fuzzer::|__sanitizer|__interceptor|abort|raise|__pthread|__libc|_start|main )' |
        head -n 14 | sed 's/^/    | /'
    in=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
    for f in $in "$prefix"*; do
        [ -f "$f" ] || continue
        echo "    | input $f ($(wc -c <"$f") bytes; the first 128 in hex):"
        od -A x -t x1z -v "$f" | head -n 8 | sed 's/^/    |   /'
    done
}

mkdir -p "$T/art" "$T/corpus"
targets=0
for src in "$root"/tests/fuzz/*_fuzz.c; do
    name=$(basename "$src" .c)
    bin=$out/$name
    targets=$((targets + 1))
    if [ ! -x "$bin" ]; then
        not_ok "$name was not built"
        continue
    fi
    seeds=("$root/tests/fuzz/corpus/$name"/*)
    if [ -f "${seeds[0]}" ]; then
        ok "$name has ${#seeds[@]} seed inputs"
    else
        not_ok "$name has no seed corpus in tests/fuzz/corpus/$name/"
        continue
    fi
    dict=()
    [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")

    # Each seed and each regression input (a crash found once, tests/fuzz/regress/) once.
    for set in corpus regress; do
        files=("$root/tests/fuzz/$set/$name"/*)
        [ -f "${files[0]}" ] || continue
        if "$bin" "${files[@]}" >"$T/$name.$set.log" 2>&1; then
            ok "$name runs its ${#files[@]} $set inputs"
        else
            not_ok "$name crashes on one of tests/fuzz/$set/$name/:"
            failing+=("$name/$set")
            report "$T/$name.$set.log" "$T/art/none-"
        fi
    done

    # Findings already pinned by a regression input are let through while fuzzing, so that
    # a known bug fails one check and the mutations can still find new ones.
    mkdir -p "$T/corpus/$name"
    s=$SECONDS
    if "$bin" -runs="$runs" -seed=1 -timeout=10 -max_len=4096 -rss_limit_mb=2048 "${dict[@]}" \
        -artifact_prefix="$T/art/$name-" "$T/corpus/$name" "$root/tests/fuzz/corpus/$name" \
        >"$T/$name.fuzz.log" 2>&1; then
        cov=$(grep -oE 'cov: [0-9]+' "$T/$name.fuzz.log" | tail -n 1)
        ok "$name: $runs mutations without a crash (${cov:-cov: ?}, $((SECONDS - s))s)"
    else
        not_ok "$name crashed while fuzzing ($runs runs, -seed=1):"
        failing+=("$name/fuzzing")
        report "$T/$name.fuzz.log" "$T/art/$name-"
    fi
done
check_eq "$([ "$targets" -ge 5 ] && echo yes)" yes "at least the five parser targets exist"
echo "# fuzz smoke took $((SECONDS - start))s"
[ ${#failing[@]} -eq 0 ] || echo "# crashes in: ${failing[*]} (details above; inputs kept in $T)"
t_done
