#!/usr/bin/env bash
# GPU benchmark for one GPU machine (one H100/H200, 16 host cores), in under 10 minutes.
#
#   bench/device_gpu.sh            run everything that fits in BUDGET seconds, print a table
#   STAGES="idle g22 c22" bench/device_gpu.sh    only those stages (to split over two calls)
#
# Stages, most important first (each is skipped, and says so, when the budget left is too small):
#   idle  the GPU's idle board power (NVML, 10 s) and its name
#   g22   --device gpu, SCALE 22, 64 roots, BFS + SSSP, validated
#   c22   the same SCALE 22 run on the host's CPU cores (1 rank x all cores)
#   g24e  --device gpu, SCALE 24, 16 roots, BFS + SSSP, validated, --energy-loop 60 (MTEPS/W)
#   g26   --device gpu, SCALE 26, 16 roots, BFS + SSSP, validated
# Every run writes its JSON and log to $OUT (the device tool's folder) or bench/out-gpu; the
# table at the end is built from the JSON files. A stage that fails prints its log's tail and
# the script goes on; the exit code is the number of failed stages.
#
# Runs from the repository root with the machine's python3 (no install: PYTHONPATH=.). It needs
# numpy, numba, numba-cuda, mpi4py (with an MPI library) and nvidia-ml-py there; if wheels are
# carried in .whl/ they are installed into /tmp/site first.
set -u -o pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
BUDGET=${BUDGET:-570}            # seconds for the whole script
STAGES=${STAGES:-"idle g22 c22 g24e g26"}
DELTA=${DELTA:-}                 # SSSP bucket width on the GPU (default: the kernel's)
LOOP=${LOOP:-60}                 # energy-loop seconds of g24e
S22=${S22:-22} S24=${S24:-24} S26=${S26:-26}   # the SCALEs (smaller ones for a dry run elsewhere)
CORES=$(nproc)
OUTDIR=${OUT:-bench/out-gpu}
mkdir -p "$OUTDIR"
START=$(date +%s)
FAILED=0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

left() { echo $(( BUDGET - ($(date +%s) - START) )); }

if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site" \
        || echo "device_gpu: installing the carried wheels failed" >&2
fi

echo "== environment"
nvidia-smi -L 2>&1 | head -4 || true
free -g | head -2 || true     # the preflight refuses a SCALE whose estimate exceeds MemAvailable
"$PY" - <<'EOF' || { echo "device_gpu: a required package is missing (see above)"; exit 99; }
import numpy, numba, mpi4py
from mpi4py import MPI
from numba import cuda
print("python packages: numpy", numpy.__version__, "numba", numba.__version__, "mpi4py",
      mpi4py.__version__, "|", MPI.Get_library_version().splitlines()[0].strip())
try:
    print("numba-cuda sees:", [getattr(g, "name", g) for g in cuda.gpus])
except Exception as e:  # a driver problem shows here, and again in the runs
    print("numba-cuda sees no GPU:", e)
EOF

fail() {   # stage, log
    FAILED=$((FAILED + 1))
    echo "device_gpu: stage $1 FAILED; last lines of $2:"
    tail -n 25 "$2" | sed 's/^/    /'
}

run_g500() {   # stage, min_seconds, args...
    local stage=$1 need=$2
    shift 2
    local budget
    budget=$(left)
    if [ "$budget" -lt "$need" ]; then
        echo "device_gpu: stage $stage SKIPPED: ${budget}s left of ${BUDGET}s, it needs about ${need}s"
        return 0
    fi
    echo "== $stage: graph500 $* (at most ${budget}s)"
    rm -f "$OUTDIR/$stage.json"    # a result left by an earlier run must not reach the table
    local t0=$(date +%s)
    if timeout --signal=INT --kill-after=10 "$budget" "$PY" -m graph500 "$@" \
            --json "$OUTDIR/$stage.json" >"$OUTDIR/$stage.log" 2>&1; then
        echo "   done in $(( $(date +%s) - t0 ))s"
    else
        fail "$stage" "$OUTDIR/$stage.log"
    fi
}

delta_arg=()
[ -n "$DELTA" ] && delta_arg=(--delta "$DELTA")

for stage in $STAGES; do
    case $stage in
    idle)
        echo "== idle: GPU board power at rest (NVML, 10 s)"
        rm -f "$OUTDIR/idle.json"
        "$PY" - "$OUTDIR/idle.json" <<'EOF' 2>&1 | tee "$OUTDIR/idle.log" || fail idle "$OUTDIR/idle.log"
import json, sys, time
import pynvml as nv
nv.nvmlInit()
h = nv.nvmlDeviceGetHandleByIndex(0)
name = nv.nvmlDeviceGetName(h)
name = name.decode() if isinstance(name, bytes) else name
e0, t0 = nv.nvmlDeviceGetTotalEnergyConsumption(h), time.time()
watts = []
while time.time() - t0 < 10:
    watts.append(nv.nvmlDeviceGetPowerUsage(h) / 1000.0)
    time.sleep(0.5)
e1, t1 = nv.nvmlDeviceGetTotalEnergyConsumption(h), time.time()
rec = {"gpu": name, "idle_W_energy_counter": (e1 - e0) / 1000.0 / (t1 - t0),
       "idle_W_power_readings": sum(watts) / len(watts), "seconds": t1 - t0}
json.dump(rec, open(sys.argv[1], "w"))
print("   %s: idle %.1f W (energy counter), %.1f W (mean of power readings)"
      % (name, rec["idle_W_energy_counter"], rec["idle_W_power_readings"]))
EOF
        ;;
    g22)  run_g500 g22 60 --device gpu -s "$S22" --roots 64 "${delta_arg[@]}" ;;
    c22)  run_g500 c22 60 --device cpu -s "$S22" --roots 64 --threads "$CORES" ;;
    g24e) run_g500 g24e $((2 * LOOP + 60)) --device gpu -s "$S24" --roots 16 --energy-loop "$LOOP" \
              "${delta_arg[@]}" ;;
    g26)  run_g500 g26 150 --device gpu -s "$S26" --roots 16 "${delta_arg[@]}" ;;
    *)    echo "device_gpu: unknown stage $stage"; FAILED=$((FAILED + 1)) ;;
    esac
done

echo "== results ($(( $(date +%s) - START ))s in all)"
"$PY" - "$OUTDIR" $STAGES <<'EOF'
import json, os, sys
out, stages = sys.argv[1], sys.argv[2:]
fmt = "%-5s %-4s %5s %5s %-5s %10s %8s %9s %7s %7s %9s  %s"
print(fmt % ("run", "dev", "SCALE", "roots", "kern", "hm GTEPS", "min GTEPS", "valid s", "gen s",
             "K1 s", "MTEPS/W", "device / note"))
idle = None
for s in stages:
    p = os.path.join(out, s + ".json")
    if s == "idle":
        if os.path.exists(p):
            idle = json.load(open(p))
            print("idle: %s, %.1f W (energy counter), %.1f W (power readings)"
                  % (idle["gpu"], idle["idle_W_energy_counter"], idle["idle_W_power_readings"]))
        else:
            print("idle: not measured")
        continue
    if not os.path.exists(p):
        print(fmt % (s, "", "", "", "", "", "", "", "", "", "", "no result (failed or skipped)"))
        continue
    r = json.load(open(p))
    gpus = r.get("gpus") or []
    where = gpus[0]["name"] if gpus else "%d rank(s) x %s threads" % (r["num_mpi_processes"],
                                                                     r["threads_per_rank"])
    en = (r.get("energy") or {}).get("kernels", {})
    for k in r["kernels"]:
        rec = r.get(k)
        if not rec:
            continue
        e = en.get(k) or {}
        mw = e.get("mteps_per_watt")
        note = where
        if mw is not None and e.get("power_scope"):
            note += "; " + e["power_scope"].split(" (")[0]
        elif mw is None and e.get("reason") and k == "bfs" and "loop" in s:
            note += "; MTEPS/W: " + e["reason"][:60]
        vt = rec.get("validate_time") or []
        print(fmt % (s, r.get("device", "cpu"), r["scale"], len(r["roots"]), k,
                     "%.3f" % (rec["harmonic_mean_TEPS"] / 1e9), "%.3f" % (rec["min_TEPS"] / 1e9),
                     "%.3f" % (sum(vt) / len(vt)) if vt else "-", "%.1f" % r["graph_generation"],
                     "%.2f" % r["construction_time"], "%.1f" % mw if mw is not None else "-", note))
EOF
echo "device_gpu: $FAILED stage(s) failed"
exit "$FAILED"
