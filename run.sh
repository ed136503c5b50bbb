#!/usr/bin/env bash
# Set up .venv on first use, then run the benchmark under MPI, or the test suite.
#   ./run.sh [-n RANKS] [graph500 options]   a validated benchmark (RANKS defaults to the cores)
#   ./run.sh test [pytest options]           the test suite
# Environment: GRAPH500_VENV (default .venv), PYTHON (the interpreter that creates it, default
# python3), MPICC (the system MPI's compiler wrapper, when it is not `mpicc` beside `mpiexec`).
#
# MPI: where a system MPI is found (an `mpiexec` on PATH outside the venv), mpi4py is built
# from source against it (its binary wheel carries its own idea of the library's file name,
# e.g. libmpi.so.12 where Debian ships libmpich.so.12), and the system mpiexec launches the
# ranks. Without a system MPI, or when mpi4py cannot be built against it (no mpicc, no C
# compiler), the MPICH wheel from PyPI brings mpiexec and libmpi into the venv. Either way
# mpi4py's library is then checked against the mpiexec that will launch it.
#
# Set-up runs under a lock (two run.sh started at once on a fresh clone both succeed), and a
# venv whose python or pip is broken is re-created when run.sh made it, else reported.
# The functions below can be sourced by tests (tests/test_runsh.py); GRAPH500_DRY_RUN=1 makes
# set-up print the pip commands instead of running them.
set -euo pipefail

note() { printf 'run.sh: %s\n' "$*" >&2; }
die() { note "$@"; exit 1; }

# Run a set-up command, or with GRAPH500_DRY_RUN=1 only say it.
do_cmd() {
    if [ -n "${GRAPH500_DRY_RUN:-}" ]; then
        printf 'run.sh: would run: %s\n' "$*" >&2
    else
        "$@"
    fi
}

venv_bin() { (cd "$VENV" 2>/dev/null && printf '%s/bin' "$(pwd -P)") || printf '%s/bin' "$VENV"; }

# The first `NAME` on PATH outside the venv (a system MPI's programs), or nothing. Any
# Python venv's bin folder is skipped too: an MPI there is a PyPI wheel like our own (an
# activated venv of another project), not the site's library.
system_tool() {
    local name=$1 bin dir
    bin=$(venv_bin)
    local IFS=:
    for dir in $PATH; do
        [ -n "$dir" ] || continue
        if [ "$(cd "$dir" 2>/dev/null && pwd -P)" = "$bin" ]; then continue; fi
        if [ -f "$dir/../pyvenv.cfg" ]; then continue; fi
        if [ -x "$dir/$name" ] && [ ! -d "$dir/$name" ]; then
            printf '%s' "$dir/$name"
            return 0
        fi
    done
    return 0
}

system_mpiexec() { system_tool mpiexec; }

# The system MPI's compiler wrapper: $MPICC, else mpicc beside mpiexec, else mpicc on PATH.
system_mpicc() {
    local exe=$1
    if [ -n "${MPICC:-}" ]; then
        command -v "$MPICC" 2>/dev/null || true
        return 0
    fi
    if [ -x "$(dirname "$exe")/mpicc" ]; then
        printf '%s' "$(dirname "$exe")/mpicc"
        return 0
    fi
    system_tool mpicc
}

# Which MPI family a version text names: mpich (MPICH, MVAPICH and their Hydra mpiexec share
# one ABI), openmpi, intel, or unknown.
mpi_family() {
    local text
    text=$(cat)
    case "$text" in
        *"Intel(R) MPI"*|*"Intel MPI"*) echo intel ;;
        *"Open MPI"*|*OpenRTE*|*"Open RTE"*) echo openmpi ;;
        *MPICH*|*MVAPICH*|*HYDRA*|*Hydra*) echo mpich ;;
        *) echo unknown ;;
    esac
}

# The C compiler an mpicc wrapper calls (MPICH and Intel: -show; Open MPI: --showme).
mpicc_compiler() {
    local c
    c=$("$1" -show 2>/dev/null | awk 'NR == 1 {print $1}') || true
    [ -n "$c" ] || c=$("$1" --showme 2>/dev/null | awk 'NR == 1 {print $1}') || true
    printf '%s' "$c"
}

# How mpi4py gets its MPI: "system MPICC" (build against the system MPI with that mpicc),
# "fallback REASON" (a system MPI, but mpi4py cannot be built against it: PyPI MPICH), or
# "pypi" (no system MPI).
mpi_plan() {
    local exe mpicc cc
    exe=$(system_mpiexec)
    if [ -z "$exe" ]; then
        echo pypi
        return 0
    fi
    mpicc=$(system_mpicc "$exe")
    if [ -z "$mpicc" ]; then
        echo "fallback no mpicc for $exe (install the MPI's development package, or set MPICC)"
        return 0
    fi
    cc=$(mpicc_compiler "$mpicc")
    if [ -z "$cc" ]; then
        echo "fallback $mpicc does not say which compiler it calls (-show, --showme)"
    elif ! command -v "$cc" >/dev/null 2>&1; then
        echo "fallback no C compiler ($mpicc calls $cc, which is not installed)"
    else
        echo "system $mpicc"
    fi
}

# The mpiexec that launches the ranks: the system one when mpi4py was built against it,
# else the venv's (PyPI MPICH).
mpiexec_path() {
    if [ "$(cat "$VENV/.mpi" 2>/dev/null)" = system ]; then
        system_mpiexec
    elif [ -x "$VENV/bin/mpiexec" ]; then
        printf '%s' "$VENV/bin/mpiexec"
    else
        system_mpiexec
    fi
}

# mpi4py's MPI library version line, or "ERROR: why" (never a traceback). Loads the library
# without initialising MPI, so it needs no launcher.
mpi4py_library() {
    "$VENV/bin/python" - <<'EOF' 2>/dev/null || echo "ERROR: the venv's python failed"
try:
    import mpi4py
    mpi4py.rc.initialize = False
    from mpi4py import MPI
    print(MPI.Get_library_version().strip("\x00 \n").splitlines()[0].strip())
except Exception as e:
    print("ERROR: %s: %s" % (type(e).__name__, (str(e).splitlines() or [""])[0]))
EOF
}

# Check that mpi4py loads and that its library is of the family of the mpiexec that will
# launch it; say what to do when not. Returns non-zero on a mismatch or a failed load.
check_mpi() {
    local exe lib libfam exefam
    exe=$(mpiexec_path)
    [ -n "$exe" ] || die "no mpiexec found (neither a system MPI nor the venv's MPICH)"
    lib=$(mpi4py_library)
    case "$lib" in
        ERROR:*)
            note "mpi4py in $VENV cannot load its MPI library (${lib#ERROR: })."
            note "fix: rebuild it against the MPI whose mpiexec is $exe:" \
                 "MPICC=/path/to/that/mpicc $VENV/bin/python -m pip install --force-reinstall" \
                 "--no-deps --no-binary mpi4py --no-cache-dir mpi4py;" \
                 "or remove $VENV and run ./run.sh again"
            return 1 ;;
    esac
    libfam=$(printf '%s' "$lib" | mpi_family)
    exefam=$("$exe" --version 2>&1 | head -n 20 | mpi_family || true)
    if [ "$libfam" = unknown ] || [ "$exefam" = unknown ]; then
        note "could not tell whether mpi4py's MPI ($lib) matches $exe; continuing"
        return 0
    fi
    if [ "$libfam" != "$exefam" ]; then
        note "mpi4py in $VENV uses $libfam ($lib), but $exe is $exefam: ranks would not join one job."
        note "fix: put the $libfam mpiexec first on PATH, or rebuild mpi4py against $exefam:" \
             "MPICC=$(dirname "$exe")/mpicc $VENV/bin/python -m pip install --force-reinstall" \
             "--no-deps --no-binary mpi4py --no-cache-dir mpi4py (or remove $VENV and run ./run.sh again)"
        return 1
    fi
    return 0
}

# --- the venv ---------------------------------------------------------------------------------

# Serialise set-ups of one venv: the second run.sh waits here, then finds it ready.
lock_venv() {
    local lock="${VENV%/}.lock"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$lock"
        if ! flock -n 9; then
            note "waiting for another run.sh that is setting up $VENV"
            flock 9
        fi
    else
        # no flock(1) (macOS): an atomic mkdir, left when this shell exits
        local said=
        until mkdir "$lock.d" 2>/dev/null; do
            [ -n "$said" ] || note "waiting for another run.sh that is setting up $VENV ($lock.d)"
            said=1
            sleep 1
        done
        trap 'rmdir "$lock.d" 2>/dev/null || true' EXIT
    fi
}

unlock_venv() {
    if command -v flock >/dev/null 2>&1; then
        exec 9>&-
    else
        rmdir "${VENV%/}.lock.d" 2>/dev/null || true
        trap - EXIT
    fi
}

create_venv() {
    note "creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" >&2; then
        rm -rf "$VENV"
        die "'$PYTHON -m venv $VENV' failed. Install the venv module (Debian/Ubuntu:" \
            "apt-get install python3-venv), or set PYTHON to another Python >= 3.9."
    fi
    : > "$VENV/.graph500-venv"      # made by run.sh: it may re-create it when broken
}

# A venv that lost its python (the interpreter it points to was removed or upgraded) or its
# pip (an interrupted creation, a --without-pip venv) is re-created when run.sh made it;
# someone else's venv (GRAPH500_VENV) is reported with the fix instead.
repair_venv() {
    local what=$1
    if [ -f "$VENV/.graph500-venv" ]; then
        note "$VENV is broken ($what): re-creating it"
        rm -rf "$VENV"
        create_venv
    else
        die "$VENV is broken ($what). Fix: remove it (rm -rf $VENV) and run ./run.sh again," \
            "or point GRAPH500_VENV at another folder."
    fi
}

ensure_venv() {
    if [ ! -e "$VENV" ]; then
        create_venv
    elif [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        repair_venv "its python does not run"
    fi
}

ensure_pip() {
    "$VENV/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    "$VENV/bin/python" -m ensurepip --upgrade >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    repair_venv "no pip"
    "$VENV/bin/python" -m pip --version >/dev/null 2>&1 ||
        die "$VENV has no pip even when re-created: install pip for $PYTHON" \
            "(Debian/Ubuntu: apt-get install python3-venv python3-pip)"
}

# Build mpi4py from source against the system MPI (no binary wheel, no cached wheel built for
# another MPI). Returns non-zero, with the log kept, when the build fails.
build_mpi4py() {
    local mpicc=$1 log="$VENV/mpi4py-build.log"
    note "building mpi4py against the system MPI ($mpicc); log: $log"
    if [ -n "${GRAPH500_DRY_RUN:-}" ]; then
        do_cmd env MPICC="$mpicc" "$VENV/bin/python" -m pip install --force-reinstall --no-deps \
            --no-binary mpi4py --no-cache-dir mpi4py
        return 0
    fi
    MPICC="$mpicc" "$VENV/bin/python" -m pip install --force-reinstall --no-deps \
        --no-binary mpi4py --no-cache-dir mpi4py >"$log" 2>&1
}

setup() {
    local extras=$1 plan kind stamp
    lock_venv
    ensure_venv
    plan=$(mpi_plan)
    if [ "${plan%% *}" = system ] && [ -f "$VENV/.mpi4py-build-failed" ] &&
            [ "$(cat "$VENV/.mpi4py-build-failed")" = "${plan#system }" ]; then
        # tried and failed with this mpicc before: do not rebuild on every run
        plan="fallback building mpi4py against ${plan#system } failed before ($VENV/mpi4py-build.log)"
    fi
    kind=${plan%% *}
    [ "$kind" = system ] || kind=mpich
    stamp="$VENV/.installed-${extras//,/-}-$kind"
    # the test extra brings everything the plot extra does
    if [ "$extras" = plot ] && [ -f "$VENV/.installed-test-$kind" ] &&
            [ ! pyproject.toml -nt "$VENV/.installed-test-$kind" ]; then
        stamp="$VENV/.installed-test-$kind"
    fi
    kind=${plan%% *}
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        ensure_pip
        do_cmd "$VENV/bin/python" -m pip install -q --upgrade pip >&2 || true
        if [ "$kind" = system ]; then
            if ! build_mpi4py "${plan#system }"; then
                note "building mpi4py against ${plan#system } failed (see $VENV/mpi4py-build.log):" \
                     "using the MPICH from PyPI instead"
                printf '%s' "${plan#system }" > "$VENV/.mpi4py-build-failed"
                kind=fallback
                stamp="$VENV/.installed-${extras//,/-}-mpich"
            fi
        elif [ "$kind" = fallback ]; then
            note "system MPI found, but ${plan#fallback }: using the MPICH from PyPI instead"
        fi
        if [ "$kind" = system ]; then
            # a PyPI MPICH left from an earlier set-up would shadow the system mpiexec
            do_cmd "$VENV/bin/python" -m pip uninstall -q -y mpich >/dev/null 2>&1 || true
            note "installing graph500[$extras] into $VENV"
            do_cmd "$VENV/bin/python" -m pip install -q -e ".[$extras]" >&2
            echo system > "$VENV/.mpi"
        else
            if [ -f "$VENV/.mpi" ] && [ "$(cat "$VENV/.mpi")" = system ]; then
                # mpi4py was built against a system MPI that is gone now: take the wheel
                do_cmd "$VENV/bin/python" -m pip uninstall -q -y mpi4py >/dev/null 2>&1 || true
            fi
            note "installing graph500[$extras,mpich] into $VENV"
            do_cmd "$VENV/bin/python" -m pip install -q -e ".[$extras,mpich]" >&2
            echo pypi > "$VENV/.mpi"
        fi
        if [ -z "${GRAPH500_DRY_RUN:-}" ]; then
            check_mpi || { unlock_venv; exit 1; }
        fi
        # stamps of the other MPI choice are stale now
        if [ "$kind" = system ]; then rm -f "$VENV"/.installed-*-mpich
        else rm -f "$VENV"/.installed-*-system; fi
        touch "$stamp"
    fi
    unlock_venv
}

main() {
    cd "$(dirname "$0")"
    VENV=${GRAPH500_VENV:-.venv}
    PYTHON=${PYTHON:-python3}

    if [ "${1:-}" = "test" ]; then
        shift
        setup "test"
        export PATH="$(venv_bin):$PATH"
        # No path here: pyproject.toml's testpaths gives tests/ when the user names none, and
        # `./run.sh test tests/test_x.py` runs only that file.
        exec "$VENV/bin/python" -m pytest "$@"
    fi

    local ranks mpiexec
    ranks=$(nproc 2>/dev/null || echo 1)
    if [ "${1:-}" = "-n" ]; then
        ranks=${2:?run.sh: -n needs a number of ranks}
        shift 2
    fi
    setup "plot"
    mpiexec=$(mpiexec_path)
    [ -n "$mpiexec" ] || die "no mpiexec found"
    exec "$mpiexec" -n "$ranks" "$VENV/bin/python" -m graph500 "$@"
}

# Sourced (by the tests), only define the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
