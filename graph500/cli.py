"""Command line: options, one-line errors, and the rule that no rank is left hanging.

Every rank parses the same argv, so a bad value is found by every rank without talking:
rank 0 prints one line and every rank exits 2. Anything that goes wrong later, on any single
rank, is caught here and turned into MPI_Abort, which ends the whole job at once (a rank
that merely exited would leave the others blocked in their next collective).
"""
import argparse
import os
import sys

from . import spec
from .drain import drain_stdio

DEFAULT_SCALE = 21   # a complete validated BFS + SSSP run in about a minute on 2 cores


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


def build_parser():
    import energy
    p = _Parser(prog="graph500", add_help=False,
                description="Graph500 v3 BFS and SSSP benchmark (Green Graph500 energy "
                            "reporting). Launch with mpiexec/mpirun/srun; "
                            "'graph500 energy-join -h' joins a wall meter's log afterwards.")
    p.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    p.add_argument("-s", "--scale", type=int, default=DEFAULT_SCALE,
                   help="log2 of the number of vertices (default %d)" % DEFAULT_SCALE)
    p.add_argument("-e", "--edgefactor", type=int, default=spec.EDGEFACTOR,
                   help="edges per vertex (default 16, required for submissions)")
    p.add_argument("--roots", type=int, default=spec.MAX_ROOTS,
                   help="number of search roots, 1..64 (default 64)")
    p.add_argument("--seed", type=int, nargs=2, metavar=("S1", "S2"), default=list(spec.DEFAULT_SEED),
                   help="the two 64-bit generator seeds (default 2 3, the reference's)")
    p.add_argument("--kernels", type=_kernels, default=list(spec.KERNELS),
                   help="bfs, sssp or bfs,sssp (default bfs,sssp)")
    p.add_argument("--delta", type=float, default=None,
                   help="SSSP delta-stepping bucket width (default: measured best)")
    p.add_argument("--skip-validation", action="store_true",
                   help="do not validate (validate statistics print as -1)")
    p.add_argument("--threads", type=int, default=None,
                   help="Numba threads per rank (default: cores on the node / ranks on the node)")
    p.add_argument("--json", metavar="PATH", default=None, help="write a JSON result to PATH")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--idle", type=float, default=0.0, metavar="SECONDS",
                   help="measure idle power for SECONDS before generating (ranks sleep)")
    p.add_argument("--energy-loop", type=float, default=0.0, metavar="SECONDS",
                   help="after each kernel's timed searches, repeat them untimed for SECONDS "
                        "to measure steady power")
    p.add_argument("--green", action="store_true",
                   help="Green Graph500 submission preset: --energy-loop 60 --idle 30")
    energy.add_arguments(p)
    return p


def parse_args(argv):
    """Parse and check argv; raises UsageError with a one-line message."""
    p = build_parser()
    args = p.parse_args(argv)
    if args.help:
        return args
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
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be a positive integer, got %d" % args.threads)
    if args.delta is not None and not (args.delta > 0 and args.delta < float("inf")):
        raise UsageError("--delta must be a positive number, got %r" % args.delta)
    if args.green:
        args.energy_loop = max(args.energy_loop, 60.0)
        args.idle = max(args.idle, 30.0)
    if args.idle < 0 or args.energy_loop < 0:
        raise UsageError("--idle and --energy-loop must be non-negative seconds")
    import energy
    try:
        args.energy_config = energy.EnergyConfig.from_args(args)
    except energy.EnergyConfigError as e:
        raise UsageError(str(e))
    return args


def _fail(msg, code):
    sys.stderr.write("graph500: error: %s\n" % msg)
    sys.stderr.flush()
    sys.exit(code)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["energy-join"]:
        from energy.join import main as join_main
        sys.exit(join_main(argv[1:]))

    # Decide the thread count before Numba reads NUMBA_NUM_THREADS at import.
    try:
        args = parse_args(argv)
        err = None
    except UsageError as e:
        args, err = None, str(e)
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if err is not None:
        if rank == 0:
            _fail(err, 2)
        sys.exit(2)
    if args.help:
        if rank == 0:
            build_parser().print_help()
        sys.exit(0)
    if args.threads is not None and args.threads > (os.cpu_count() or 1):
        # Numba's pool defaults to one thread per core; asking for more must widen it.
        os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))

    try:
        from . import numba_cache
        numba_cache.setup(comm)      # before Numba's import: it reads NUMBA_CACHE_DIR once
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
