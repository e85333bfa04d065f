"""Generates pytorch_mlp.onnx and pytorch_mlp.json for the onnx package's
TestImportPyTorch: a Linear -> BatchNorm1d -> ReLU -> Linear -> Softmax
network exported by torch.onnx.export (opset 13, a dynamic batch axis), and
its outputs on a fixed input computed by PyTorch. The tests never run this;
the two files are committed.

Run with Debian's python3-torch (1.13): /usr/bin/python3 gen_pytorch.py
"""
import json

import torch

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(8, 6),
    torch.nn.BatchNorm1d(6),
    torch.nn.ReLU(),
    torch.nn.Linear(6, 3),
    torch.nn.Softmax(dim=1),
)
# Running statistics and affine parameters far from their initial values,
# as after training, so that a wrong reading shows in the outputs.
with torch.no_grad():
    bn = net[1]
    bn.running_mean.copy_(torch.randn(6))
    bn.running_var.copy_(torch.rand(6) * 2 + 0.1)
    bn.weight.copy_(torch.randn(6))
    bn.bias.copy_(torch.randn(6))
net.eval()

x = torch.rand(5, 8)
with torch.no_grad():
    y = net(x)

torch.onnx.export(
    net, x, "pytorch_mlp.onnx", opset_version=13,
    input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
)
with open("pytorch_mlp.json", "w") as f:
    json.dump({"torch": torch.__version__, "input": x.tolist(), "output": y.tolist()}, f, indent=1)
    f.write("\n")
