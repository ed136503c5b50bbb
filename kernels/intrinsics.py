"""LLVM instructions Numba does not expose on the CPU, for the hot loops.

Atomic read-modify-write on uint64 (or uint32) array elements, for threads that share an
array: these are LLVM's atomicrmw instructions (x86: a locked instruction, or a
compare-and-swap loop for min), with monotonic ordering: each update is indivisible, and
nothing else is ordered by it (the parallel region's end orders the rest); the _sc variants
order everything around them.
A locked instruction also stalls the thread's other memory accesses, so callers test with a
plain read first where a stale value can only make them skip work that is not needed.
"""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _rmw(op, doc, ordering="monotonic"):
    @intrinsic
    def rmw(typingctx, ary, idx, val):
        if not (isinstance(ary, types.Array) and ary.dtype in (types.uint32, types.uint64)
                and val == ary.dtype and isinstance(idx, types.Integer)):
            return None
        sig = ary.dtype(ary, idx, val)

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            arr = context.make_array(aryty)(context, builder, args[0])
            i = context.cast(builder, args[1], signature.args[1], types.intp)
            ptr = cgutils.get_item_pointer(context, builder, aryty, arr, [i])
            return builder.atomic_rmw(op, ptr, args[2], ordering)
        return sig, codegen
    rmw.__doc__ = doc
    return rmw


atomic_min = _rmw("umin", "old = ary[idx]; ary[idx] = min(old, val) (unsigned); returns old.")
atomic_or = _rmw("or", "old = ary[idx]; ary[idx] = old | val; returns old.")
atomic_and = _rmw("and", "old = ary[idx]; ary[idx] = old & val; returns old.")
# The same with sequentially consistent ordering: neither the compiler nor the processor moves
# other memory accesses across them (on x86 the same locked instructions), for threads that
# hand work to each other through them (kernels/sssp.py's light pass).
atomic_min_sc = _rmw("umin", "atomic_min, sequentially consistent.", "seq_cst")
atomic_and_sc = _rmw("and", "atomic_and, sequentially consistent.", "seq_cst")



@intrinsic
def compare_and_swap(typingctx, ary, idx, expected, new):
    """One atomic step on an int64 (or uint64) element: if ary[idx] == expected, ary[idx] =
    new. Returns the value ary[idx] held (== expected when the swap happened)."""
    if not (isinstance(ary, types.Array) and ary.dtype in (types.int64, types.uint64)
            and isinstance(idx, types.Integer) and expected == ary.dtype
            and new == ary.dtype):
        return None
    sig = ary.dtype(ary, idx, expected, new)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        arr = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, arr, [i])
        pair = builder.cmpxchg(ptr, args[2], args[3], "monotonic", "monotonic")
        return builder.extract_value(pair, 0)
    return sig, codegen


@intrinsic
def popcount(typingctx, x):
    """The number of set bits of uint64 x (one instruction where the processor has it)."""
    if x != types.uint64:
        return None
    sig = types.int64(x)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64]),
                                            "llvm.ctpop.i64")
        return builder.call(fn, [args[0]])
    return sig, codegen


@intrinsic
def prefetch(typingctx, ary, idx):
    """Start loading the cache line of ary[idx] (no bounds check needed: a prefetch never
    faults). A loop of random reads whose branches mispredict (most of them here) loses
    the overlap of its cache misses at each mispredict; asking for the element a few
    iterations ahead restores it (measured: 26 -> 16 ns per read of a 16 MiB array)."""
    if not (isinstance(ary, types.Array) and isinstance(idx, types.Integer)):
        return None
    sig = types.void(ary, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        arr = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, arr, [i])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def bitcast(typingctx, x, to):
    """The bits of float32 x as a uint32 (to = np.uint32), or uint32 bits x as the float32
    they encode (to = np.float32): a reinterpretation, no conversion. Non-negative floats
    order like their bits."""
    if not isinstance(to, types.NumberClass):
        return None
    dst = to.instance_type
    if (x, dst) not in ((types.float32, types.uint32), (types.uint32, types.float32)):
        return None
    sig = dst(x, to)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(dst))
    return sig, codegen
