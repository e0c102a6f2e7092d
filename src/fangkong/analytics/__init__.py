"""Numeric kernels: detection, Rt, pooling and simulation.

A library of its own: arrays in, arrays out, explicit ``numpy.random.Generator`` arguments, and no
import of anything else from fangkong, so it can run on a Dask worker or in a notebook unchanged.
"""
