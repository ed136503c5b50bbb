"""Power meters, per-node sampling, phase accounting and MTEPS/W; never imports graph500 or kernels."""
