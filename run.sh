#!/usr/bin/env bash
# Set up .venv on first use, then run the benchmark under MPI, or the test suite.
#   ./run.sh [-n RANKS] [graph500 options]   a validated benchmark (RANKS defaults to the cores)
#   ./run.sh test [pytest options]           the test suite
set -euo pipefail
cd "$(dirname "$0")"
VENV=${GRAPH500_VENV:-.venv}
PYTHON=${PYTHON:-python3}

# A system MPI is used when there is one (mpi4py then talks to the site's library); otherwise
# the MPICH wheel from PyPI brings mpiexec and libmpi into the venv.
system_mpiexec() {
    local p
    p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "^$(pwd)/$VENV/bin\$" | paste -sd:) \
        command -v mpiexec 2>/dev/null) || true
    printf '%s' "$p"
}

setup() {
    local extras=$1
    if [ ! -x "$VENV/bin/python" ]; then
        echo "run.sh: creating $VENV" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    if [ -z "$(system_mpiexec)" ]; then
        extras="$extras,mpich"
    fi
    local stamp="$VENV/.installed-${extras//,/-}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "run.sh: installing graph500[$extras] into $VENV" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip >&2
        "$VENV/bin/python" -m pip install -q -e ".[$extras]" >&2
        touch "$stamp"
    fi
}

mpiexec_path() {
    if [ -x "$VENV/bin/mpiexec" ]; then
        printf '%s' "$VENV/bin/mpiexec"
    else
        system_mpiexec
    fi
}

if [ "${1:-}" = "test" ]; then
    shift
    setup "test,plot"
    export PATH="$(pwd)/$VENV/bin:$PATH"
    exec "$VENV/bin/python" -m pytest tests "$@"
fi

RANKS=$(nproc 2>/dev/null || echo 1)
if [ "${1:-}" = "-n" ]; then
    RANKS=${2:?run.sh: -n needs a number of ranks}
    shift 2
fi
setup "plot"
MPIEXEC=$(mpiexec_path)
if [ -z "$MPIEXEC" ]; then
    echo "run.sh: no mpiexec found" >&2
    exit 1
fi
exec "$MPIEXEC" -n "$RANKS" "$VENV/bin/python" -m graph500 "$@"
