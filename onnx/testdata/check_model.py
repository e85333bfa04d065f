"""Checks ONNX files with the onnx package's checker, for the onnx Go
package's TestONNXChecker: each file named on the command line must pass
onnx.checker.check_model(full_check=True), which also runs strict shape
inference. Prints one "ok FILE" line per file; exits 1 at the first
failure, naming the file.

Run with Debian's python3-onnx: /usr/bin/python3 check_model.py FILE...
"""
import sys

import onnx

for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except Exception as e:  # the checker raises several types
        print(f"{path}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print("ok", path)
