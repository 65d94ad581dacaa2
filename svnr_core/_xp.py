"""Private array-API helpers shared by :mod:`svnr_core.stein` and :mod:`svnr_core.negotiation`.

The Stein code is written once against the array API standard through ``array-api-compat``, so
one function runs on numpy arrays and on torch tensors (CPU or CUDA, with autograd).  The few
operations that the standard lacks -- stopping gradients, selecting order statistics in linear
time -- are dispatched here, by type inspection only: this module never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj, is_numpy_array, is_torch_array

#: An array of any array-API library (numpy ``ndarray``, ``torch.Tensor``, ...).  ``Any`` because
#: the standard has no static protocol that mypy can check across libraries.
Array = Any


def as_float_array(name: str, value: object, *, min_ndim: int) -> tuple[Array, Any]:
    """Return ``(array, namespace)`` for a real floating array with at least ``min_ndim`` axes.

    Non-array inputs (lists, tuples, scalars) become numpy ``float64`` arrays.  Integer or
    complex arrays, too few axes, empty axes or NaN/infinite entries raise ``ValueError`` naming
    ``name``.  The dtype and device of array inputs are kept.
    """
    arr: Array = value if is_array_api_obj(value) else np.asarray(value, dtype=np.float64)
    xp = array_namespace(arr)
    if not xp.isdtype(arr.dtype, "real floating"):
        raise ValueError(f"{name} must be a real floating array; got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} axes ([..., M, d]); got shape {tuple(arr.shape)}"
        )
    if any(int(s) == 0 for s in arr.shape):
        raise ValueError(f"{name} must not have an empty axis; got shape {tuple(arr.shape)}")
    if not bool(xp.all(xp.isfinite(stop_gradient(arr)))):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr, xp


def stop_gradient(x: Array) -> Array:
    """``x`` cut from the autograd graph (torch ``detach``); other libraries: ``x`` itself."""
    if is_torch_array(x):
        return x.detach()
    return x


def kth_smallest(xp: Any, a: Array, ks: Sequence[int]) -> list[Array]:
    """The ``k``-th smallest entries (0-based, one per ``k`` in ``ks``) along the last axis.

    Linear-time selection where the library has it: ``numpy.partition`` for numpy arrays and for
    torch CPU tensors (through a zero-copy numpy view of the detached tensor: on CPU it is several
    times faster than ``Tensor.kthvalue``), ``Tensor.kthvalue`` on other torch devices, a full
    ``xp.sort`` otherwise.  The results carry no gradient (they are used for the bandwidth only)
    and have the shape of ``a`` without its last axis.
    """
    if is_numpy_array(a):
        part = np.partition(a, list(ks), axis=-1)
        return [part[..., k] for k in ks]
    if is_torch_array(a):
        a = a.detach()
        if a.device.type == "cpu":
            part = np.partition(a.numpy(), list(ks), axis=-1)
            return [xp.asarray(np.array(part[..., k])) for k in ks]
        return [a.kthvalue(int(k) + 1, dim=-1).values for k in ks]
    ordered = xp.sort(a, axis=-1)
    return [ordered[..., k] for k in ks]


def index_array(xp: Any, like: Array, idx: Sequence[int]) -> Array:
    """``idx`` as an integer index array on the device of ``like``."""
    device = getattr(like, "device", None)
    return xp.asarray(list(idx), dtype=xp.int64, device=device)
