"""Normalising flows (notebook 04): invertible layers with exact log-determinants, composed over a Gaussian.

=================  ==================================================================================
``layers``         affine and additive couplings, ActNorm, permutations, the logit transform; each
                   ``forward(x) -> (z, log_det)`` and ``inverse(z) -> (x, log_det)``
``flow``           ``Flow`` (exact ``log_prob``, sampling, intermediate distributions, inverse checks) and
                   the ``realnvp`` builder
``dequantize``     uniform dequantisation and the upper bound it gives on a discrete NLL; bits per dimension
=================  ==================================================================================
"""
from .dequantize import bits_per_dim, dequantize, discrete_nll_bound
from .flow import Flow, FlowError, realnvp
from .layers import (ActNorm, AdditiveCoupling, AffineCoupling, FlowLayer, LogitTransform, Permutation,
                     alternating_mask, coupling_forward, coupling_inverse)

__all__ = [
    "FlowLayer", "AffineCoupling", "AdditiveCoupling", "ActNorm", "Permutation", "LogitTransform",
    "alternating_mask", "coupling_forward", "coupling_inverse",
    "Flow", "FlowError", "realnvp",
    "dequantize", "discrete_nll_bound", "bits_per_dim",
]
