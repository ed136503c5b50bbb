"""Command line: options, one-line errors, and the rule that no rank is left hanging.

Every rank parses the same argv and environment, then the ranks agree on one verdict (a single
allgather), so a bad value ends every rank with exit 2 and one line from rank 0, even where
ranks see different machines (--threads is bounded by each node's CPUs). Anything that goes
wrong later, on any single rank, is caught here and turned into MPI_Abort, which ends the whole
job at once (a rank that merely exited would leave the others blocked in their next collective).
"""
import argparse
import math
import os
import sys
import time

from . import spec
from .drain import drain_stdio

DEFAULT_SCALE = 21   # a complete validated BFS + SSSP run in about a minute on 2 cores

# --idle and --energy-loop: a day is far beyond any sensible measurement, and time.sleep and the
# loop's clock arithmetic stay exact there (inf or 1e300 would never end or overflow).
MAX_SECONDS = 86400.0
# --delta: SSSP keeps max_weight/delta + 3 bucket bitmaps of one bit per local vertex, so the
# width sets memory; 1e-4 is 200 times below the default and still only 10^4 buckets (the
# memory preflight counts them for the given SCALE). Weights are below 1, so any delta >= 1
# already makes every edge light; 1e4 only keeps the arithmetic far from overflow.
MIN_DELTA, MAX_DELTA = 1e-4, 1e4
# --threads: oversubscribing a node's CPUs a few times is a legitimate experiment; a hundred
# thousand Numba threads is not (it crashed in the thread pool's start-up).
THREADS_PER_CPU = 4

# The reference's environment switches (graph500 v3 main.c), honoured with a note on stderr.
SKIP_ENV = {"SKIP_VALIDATION": "validation", "SKIP_BFS": "bfs", "SKIP_SSSP": "sssp"}
_TRUE, _FALSE = ("1", "yes", "true", "on"), ("0", "no", "false", "off", "")

EPILOG = """\
examples:
  mpiexec -n 4 graph500 -s 20                    validated BFS + SSSP at SCALE 20
  mpiexec -n 4 graph500 20 16                    the same, the reference binaries' way
  graph500 -s 16 --kernels bfs --roots 8 --json r.json
  mpiexec -n 8 graph500 -s 24 --green --energy-trace p.csv
  graph500 energy-join r.json meter.csv          add a wall meter's log afterwards
  graph500 report r.json                         the summary a list submission asks for
  graph500 compare a.json b.json                 runs side by side, with ratios
  graph500 energy probe                          which power counters this node can read
  graph500 energy monitor -- COMMAND             meter any command

environment:
  SKIP_VALIDATION, SKIP_BFS, SKIP_SSSP   set to 1 to skip validation or a kernel, like the
                                         reference (0 or empty: not skipped); noted on stderr
                                         and listed in the JSON's "skipped"
  GRAPH500_ENERGY_NODES                  rank->node map for testing ("0,0,1,1" or "block:K")
  GRAPH500_POWERCAP_ROOT, GRAPH500_CRAY_ROOT, GRAPH500_IPMI_LOG
                                         where the energy counters are (see the energy options)
  GRAPH500_INJECT_FAILURE                test hook "RANK:PHASE" (fail there) or
                                         "RANK:corrupt-KERNEL" (break that kernel's output)
  NUMBA_NUM_THREADS, NUMBA_CACHE_DIR     Numba's own (thread pool size, compiled-code cache)

exit status: 0 done, 1 a validation failed (the JSON says which check), 2 bad input,
  3 results printed but the JSON could not be written (a trace or plot that cannot be
  written is a warning: exit 0).
"""


class UsageError(Exception):
    """Bad input: a one-line message, exit code 2 on every rank."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _kernels(text):
    names = [k.strip() for k in text.split(",") if k.strip()]
    if not names or any(k not in spec.KERNELS for k in names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("must be bfs, sssp or bfs,sssp, not %r" % text)
    return [k for k in spec.KERNELS if k in names]


def _finite(text):
    """A float that is a real number: 'nan', 'inf' and '' are refused at parse time."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number, not %r" % text) from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError("must be a finite number, not %r" % text)
    return x


def _default_delta():
    """The measured default bucket widths, "1d's, 2d's", for --help (None where Numba cannot
    load: help must print anyway)."""
    try:
        from graph500.kernels.sssp import DEFAULT_DELTA
        from graph500.kernels.sssp2d import DEFAULT_DELTA as DEFAULT_DELTA_2D
        if DEFAULT_DELTA == DEFAULT_DELTA_2D:
            return "%g" % DEFAULT_DELTA
        return "%g with --layout 1d, %g with 2d" % (DEFAULT_DELTA, DEFAULT_DELTA_2D)
    except Exception:  # noqa: BLE001 - help must print even where Numba cannot load
        return None


def package_version():
    try:
        from importlib.metadata import version
        return version("graph500")
    except Exception:  # noqa: BLE001 - running from a source tree that was never installed
        return "unknown"


def build_parser(for_help=False):
    """for_help: show the default --delta, which imports the SSSP kernel and so Numba; parsing
    must not, because Numba fixes its thread pool size (NUMBA_NUM_THREADS) at import."""
    from graph500 import energy
    delta = _default_delta() if for_help else None
    p = _Parser(prog="graph500", add_help=False, epilog=EPILOG,
                usage="mpiexec -n RANKS graph500 [SCALE [EDGEFACTOR]] [options]",
                formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Graph500 v3 BFS and SSSP benchmark (Green Graph500 energy "
                            "reporting). Launch with mpiexec/mpirun/srun; "
                            "subcommands: report, compare, energy-join, energy probe|monitor "
                            "(each with -h).")
    p.add_argument("scale_pos", nargs="?", type=int, metavar="SCALE",
                   help="as --scale (the reference binaries' first argument)")
    p.add_argument("edgefactor_pos", nargs="?", type=int, metavar="EDGEFACTOR",
                   help="as --edgefactor (the reference binaries' second argument)")
    p.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    p.add_argument("--version", action="store_true", help="print the graph500 version and exit")
    p.add_argument("-s", "--scale", type=int, default=None,
                   help="log2 of the number of vertices, 1..%d (default %d)"
                        % (spec.MAX_SCALE, DEFAULT_SCALE))
    p.add_argument("-e", "--edgefactor", type=int, default=None,
                   help="edges per vertex (default %d, required for submissions)" % spec.EDGEFACTOR)
    p.add_argument("--roots", type=int, default=spec.MAX_ROOTS,
                   help="number of search roots, 1..64 (default 64)")
    p.add_argument("--seed", type=int, nargs=2, metavar=("S1", "S2"), default=list(spec.DEFAULT_SEED),
                   help="the two 64-bit generator seeds (default 2 3, the reference's)")
    p.add_argument("--kernels", type=_kernels, default=list(spec.KERNELS),
                   help="bfs, sssp or bfs,sssp (default bfs,sssp)")
    p.add_argument("--delta", type=_finite, default=None,
                   help="SSSP delta-stepping bucket width, %g..%g (default: %s)"
                        % (MIN_DELTA, MAX_DELTA, "the measured best" if delta is None
                           else "%s, the measured best" % delta))
    p.add_argument("--skip-validation", action="store_true",
                   help="do not validate (validate statistics print as -1)")
    p.add_argument("--threads", type=int, default=None,
                   help="Numba threads per rank, at most %d x the node's CPUs (default: "
                        "the rank's CPU affinity mask shared among the ranks on the node that "
                        "share it)" % THREADS_PER_CPU)
    p.add_argument("--json", metavar="PATH", default=None,
                   help="write a JSON result to PATH (fields: docs/result-schema.md)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr (warnings and SKIP_* notes still print)")
    p.add_argument("--idle", type=_finite, default=0.0, metavar="SECONDS",
                   help="measure idle power for SECONDS (0..%g) before generating (ranks sleep)"
                        % MAX_SECONDS)
    p.add_argument("--energy-loop", type=_finite, default=0.0, metavar="SECONDS",
                   help="after each kernel's timed searches, repeat them untimed for SECONDS "
                        "(0..%g) to measure steady power" % MAX_SECONDS)
    p.add_argument("--green", action="store_true",
                   help="Green Graph500 submission preset: --energy-loop 60 --idle 30 "
                        "(larger values given with them are kept)")
    # GPU searches (graph500/device.py, kernels/gpu_*.py; needs the gpu extra).
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                   help="where the searches run: cpu (default) or gpu, one GPU per rank "
                        "(needs pip install -e .[gpu])")
    # 2-D partitioned BFS (kernels/grid.py, construct2d.py, bfs2d.py; graph500/validate2d.py)
    p.add_argument("--layout", choices=("1d", "2d"), default="1d",
                   help="graph layout over the ranks: 1d (default; row blocks) or 2d (an "
                        "R x C grid of ranks)")
    energy.add_arguments(p)
    return p


def _empty_option(p, args):
    """The first option given as an empty (or blank) string: a path or name that names nothing."""
    for a in p._actions:
        v = getattr(args, a.dest, None) if a.option_strings else None
        if isinstance(v, str) and not v.strip():
            return max(a.option_strings, key=len)
    return None


def _skips(env):
    """{name: what} for the SKIP_* variables that are set to a true value."""
    out = {}
    for var, what in SKIP_ENV.items():
        v = env.get(var)
        if v is None:
            continue
        if v.strip().lower() in _TRUE:
            out[var] = what
        elif v.strip().lower() not in _FALSE:
            raise UsageError("%s=%r: use 1 to skip %s, 0 (or unset) to run it"
                             % (var, v, what))
    return out


def parse_args(argv, env=None):
    """Parse and check argv (and the SKIP_* environment); raises UsageError with one line."""
    env = os.environ if env is None else env
    p = build_parser()
    args = p.parse_args(argv)
    if args.help or args.version:
        return args
    empty = _empty_option(p, args)
    if empty:
        raise UsageError("%s must not be empty" % empty)
    for name, pos, flag in (("scale", args.scale_pos, "--scale"),
                            ("edgefactor", args.edgefactor_pos, "--edgefactor")):
        opt = getattr(args, name)
        if pos is not None and opt is not None and pos != opt:
            raise UsageError("%s given twice with different values: %d as argument, %d as %s"
                             % (name.upper() if name == "scale" else name, pos, opt, flag))
        if opt is None:
            setattr(args, name, pos)
    if args.scale is None:
        args.scale = DEFAULT_SCALE
    if args.edgefactor is None:
        args.edgefactor = spec.EDGEFACTOR
    if args.scale < 1 or args.scale > spec.MAX_SCALE:
        raise UsageError("--scale must be between 1 and %d (vertex ids and the owner arithmetic "
                         "are 64-bit), got %d" % (spec.MAX_SCALE, args.scale))
    if args.edgefactor < 1:
        raise UsageError("--edgefactor must be a positive integer, got %d" % args.edgefactor)
    if args.edgefactor << args.scale >= spec.MAX_EDGES:
        raise UsageError("--edgefactor %d at SCALE %d gives more edges than 64-bit edge indices "
                         "hold" % (args.edgefactor, args.scale))
    if not 1 <= args.roots <= spec.MAX_ROOTS:
        raise UsageError("--roots must be between 1 and %d, got %d" % (spec.MAX_ROOTS, args.roots))
    for s in args.seed:
        if not 0 <= s < 1 << 64:
            raise UsageError("--seed values must be integers in [0, 2^64), got %d" % s)
    if args.threads is not None:
        cpus = os.cpu_count() or 1
        most = THREADS_PER_CPU * cpus
        if not 1 <= args.threads <= most:
            raise UsageError("--threads must be between 1 and %d (%d x the %d CPUs of this "
                             "machine), got %d" % (most, THREADS_PER_CPU, cpus, args.threads))
    if args.delta is not None and not MIN_DELTA <= args.delta <= MAX_DELTA:
        raise UsageError("--delta must be between %g and %g (SSSP keeps about 1/delta buckets), "
                         "got %r" % (MIN_DELTA, MAX_DELTA, args.delta))
    for flag, value in (("--idle", args.idle), ("--energy-loop", args.energy_loop)):
        if not 0 <= value <= MAX_SECONDS:
            raise UsageError("%s must be between 0 and %g seconds, got %r" % (flag, MAX_SECONDS, value))
    if args.device == "gpu" and args.scale > 31:
        raise UsageError("--device gpu supports SCALE <= 31 (32-bit vertex ids on the GPU), "
                         "got %d" % args.scale)
    if args.green:
        args.energy_loop = max(args.energy_loop, 60.0)
        args.idle = max(args.idle, 30.0)

    # The reference's SKIP_* switches; each one is noted on stderr by the driver.
    skips = _skips(env)
    args.skipped = [what for what in SKIP_ENV.values() if what in skips.values()]
    args.notes = ["%s=%s: %s skipped, as in the reference" % (var, env[var], what)
                  for var, what in skips.items()]
    if "validation" in args.skipped:
        args.skip_validation = True
    kept = [k for k in args.kernels if k not in args.skipped]
    if not kept:
        raise UsageError("nothing to run: %s skipped by %s" % (
            ",".join(args.kernels), " and ".join(v for v, w in skips.items() if w != "validation")))
    args.kernels = kept
    # --layout 2d: on the CPU only (the GPU kernels read the 1-D CSR)
    if args.layout == "2d" and args.device != "cpu":
        raise UsageError("--layout 2d runs on the CPU only for now; drop --device %s"
                         % args.device)
    # The 1-D SSSP kernel keeps parent ids in 32 bits of its keys (kernels/sssp.py): refused
    # here, before generation and Kernel 1, not by its workspace after them.
    if (args.layout == "1d" and args.device == "cpu" and "sssp" in args.kernels
            and args.scale > 32):
        raise UsageError("SSSP with --layout 1d supports SCALE <= 32 (parent ids in 32 bits), "
                         "got %d: use --layout 2d, or --kernels bfs" % args.scale)

    from graph500 import energy
    try:
        args.energy_config = energy.EnergyConfig.from_args(args)
    except energy.EnergyConfigError as e:
        raise UsageError(str(e))
    return args


def check_environment(args, size, env=None):
    """The environment variables the run reads later, checked now (before the warm-up) for a
    run of `size` ranks; raises UsageError with one line."""
    env = os.environ if env is None else env
    from graph500.energy.node import NodeMapError, parse_node_map
    node_map = args.energy_config.resolved_node_map(env)
    if node_map is not None:
        try:
            parse_node_map(node_map, size)
        except NodeMapError as e:
            raise UsageError(str(e))
    from .driver import INJECT_ENV
    hook = env.get(INJECT_ENV)
    if hook:
        rank, sep, what = hook.partition(":")
        if not sep or not rank.strip().isdigit() or not what.strip():
            raise UsageError("%s=%r: expected RANK:PHASE or RANK:corrupt-KERNEL" % (INJECT_ENV, hook))
        if int(rank) >= size:
            raise UsageError("%s=%r: rank %s, but the run has %d ranks"
                             % (INJECT_ENV, hook, rank.strip(), size))


def _fail(msg, code):
    sys.stderr.write("graph500: error: %s\n" % msg)
    sys.stderr.flush()
    sys.exit(code)


def main(argv=None):
    started = (time.time(), time.monotonic())
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["energy-join"]:
        from graph500.energy.join import main as join_main
        sys.exit(join_main(argv[1:]))
    if argv[:1] == ["energy"]:  # `graph500 energy probe|monitor`: the meter on its own
        from graph500.energy.tool import main as tool_main
        sys.exit(tool_main(argv[1:]))
    if argv[:1] == ["report"]:      # reads a result JSON: no MPI, no Numba
        from .report import main as report_main
        sys.exit(report_main(argv[1:]))
    if argv[:1] == ["compare"]:
        from .compare import main as compare_main
        sys.exit(compare_main(argv[1:]))

    # Decide the thread count before Numba reads NUMBA_NUM_THREADS at import.
    try:
        args = parse_args(argv)
        err = None
    except UsageError as e:
        args, err = None, str(e)
    if err is None and args.threads is not None and args.threads > (os.cpu_count() or 1):
        # Numba's pool defaults to one thread per core; asking for more must widen it.
        os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    # Before anything imports Numba (the environment check below imports the driver): Numba
    # reads NUMBA_CACHE_DIR once, at import.
    from . import numba_cache
    numba_cache.setup(comm)
    if err is None and not (args.help or args.version):
        try:
            check_environment(args, comm.Get_size())
        except UsageError as e:
            err = str(e)
    # One verdict for all ranks: nodes may differ (CPU counts), and a rank that exits alone
    # would leave the others waiting in their first collective.
    errors = comm.allgather(err)
    err = next((e for e in errors if e is not None), None)
    if err is not None:
        if rank == 0:
            _fail(err, 2)
        sys.exit(2)
    if args.help:
        if rank == 0:
            build_parser(for_help=True).print_help()
        sys.exit(0)
    if args.version:
        if rank == 0:
            print("graph500 %s" % package_version())
        sys.exit(0)
    args.argv = ["graph500"] + argv
    args.started = started

    try:
        from . import driver
        code = driver.run(comm, args)
    except UsageError as e:
        # Raised collectively (every rank reached the same verdict): no abort needed.
        if rank == 0:
            _fail(str(e), 2)
        sys.exit(2)
    except BaseException as e:  # noqa: BLE001 - any failure on one rank must end all ranks
        if isinstance(e, SystemExit) and not e.code:
            raise
        msg = "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__
        sys.stderr.write("graph500: error on rank %d of %d: %s; aborting all ranks\n"
                         % (rank, comm.Get_size(), msg))
        sys.stderr.flush()
        drain_stdio()    # the launcher must have read that line before the abort reaches it
        comm.Abort(1)
        # Some MPI libraries return from MPI_Abort while the launcher tears the job down;
        # this rank must not run on (or print a traceback) in the meantime.
        os._exit(1)
    sys.exit(code)
