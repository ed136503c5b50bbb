#!/usr/bin/env bash
# One short check on a lent GPU machine (its own Python, Numba, mpi4py over its MPI, NVML):
# the benchmark end to end with several ranks and threads, reading the real GPU through NVML.
# Results go to $OUT (the device tool brings them back).
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PYTHONPATH=$(pwd)
python3 -c "import sys, numpy, numba, mpi4py; from mpi4py import MPI; print(sys.version.split()[0], numpy.__version__, numba.__version__, mpi4py.__version__, MPI.Get_library_version().splitlines()[0])"
nvidia-smi --query-gpu=name,power.draw,enforced.power.limit --format=csv,noheader
ls /sys/class/powercap 2>&1 | head -3
L="mpiexec --oversubscribe -n"
time $L 4 python3 -m graph500 -s 20 --threads 4 --json "$OUT/r20.json" --energy-trace "$OUT/trace20.csv" 2> "$OUT/err20.txt" | tail -28
tail -3 "$OUT/err20.txt"
time $L 3 python3 -m graph500 -s 16 --roots 8 --threads 2 --kernels bfs --quiet | grep -E "NBFS|harmonic_mean|nedge:|energy"
python3 -m graph500 -s 16 --roots 8 --kernels bfs --quiet --threads 16 | grep -E "harmonic_mean|MTEPS|energy_method"
