#!/usr/bin/python3
"""Regenerates testdata/numpy/*.npy and testdata/numpy/manifest.json.

Run from data/npy:  /usr/bin/python3 testdata/gen.py
Needs NumPy (Debian: apt-get install python3-numpy). The tests only read
the committed files; they never run Python.
"""
import json
import os

import numpy as np
from numpy.lib import format as npformat

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy")
os.makedirs(out, exist_ok=True)
manifest = {"numpy_version": np.__version__, "files": {}}


def save(name, arr, version=None, refuse=None):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr, allow_pickle=refuse is not None)
        else:
            npformat.write_array(f, arr, version=version, allow_pickle=False)
    entry = {"refuse": refuse} if refuse else {
        "shape": list(arr.shape),
        "descr": npformat.dtype_to_descr(arr.dtype),
        "fortran_order": bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
        # Values in C order, whatever the file's order.
        "values": [float(v) for v in np.ravel(arr, order="C")],
    }
    manifest["files"][name] = entry


base = np.arange(6).reshape(2, 3)
for code in ["f4", "f8", "u1", "i1", "i2", "i4", "i8", "u2", "u4", "u8", "b1"]:
    if code == "b1":
        arr = (base % 2 == 0)
    elif code[0] == "f":
        arr = base * 0.5 - 1.25
    elif code[0] == "i":
        arr = base - 3
    else:
        arr = base * 40
    orders = ["|"] if code[1] == "1" else ["<", ">"]
    for order in orders:
        dt = np.dtype(order + code) if order != "|" else np.dtype(code)
        save(f"{code}_{'le' if order == '<' else 'be' if order == '>' else 'na'}.npy", arr.astype(dt))

cube = np.arange(24).reshape(2, 3, 4)
save("f4_fortran.npy", np.asfortranarray(cube.astype("<f4") / 4))
save("i2_be_fortran.npy", np.asfortranarray((cube - 12).astype(">i2")))
save("f8_fortran_2d.npy", np.asfortranarray(base.astype("<f8") + 0.5))
save("f8_fortran_1d.npy", np.asfortranarray(np.arange(4, dtype="<f8")))
save("f8_scalar.npy", np.array(3.75, dtype="<f8"))
save("u1_1d.npy", np.arange(5, dtype="u1") * 50)
save("f4_empty.npy", np.zeros((0, 3), dtype="<f4"))
save("i8_big.npy", np.array([-(2**40), 2**52, -1, 0], dtype="<i8"))
save("f4_extremes.npy", np.array([3.4028235e38, -1.4e-45, 1e-38, -0.0], dtype="<f4"))
save("f4_v2.npy", base.astype("<f4"), version=(2, 0))
save("f4_v3.npy", base.astype("<f4"), version=(3, 0))
save("f4_many_dims.npy", np.arange(2, dtype="<f4").reshape((1,) * 20 + (2,)))

save("object.npy", np.array([1, "a"], dtype=object), refuse="object")
save("unicode.npy", np.array(["ab", "c"]), refuse="unicode")
save("f2.npy", np.arange(3, dtype="<f2"), refuse="float16")
save("complex.npy", np.arange(3, dtype="<c8"), refuse="complex")
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), refuse="structured")

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1, sort_keys=True)
    f.write("\n")
