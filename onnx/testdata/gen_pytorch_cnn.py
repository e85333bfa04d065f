"""Generates pytorch_cnn.onnx, pytorch_cnn_bn.onnx and pytorch_cnn.json for the onnx package's
TestImportPyTorchCNN: Conv2d (padding 1) -> BatchNorm2d -> ReLU ->
MaxPool2d -> Conv2d (no padding, stride 1) -> ReLU -> Flatten -> Linear ->
Softmax on 1x10x10 images, exported by torch.onnx.export (opset 13, a
dynamic batch axis) with NCHW input, and its outputs on a fixed input
computed by PyTorch. The tests never run this; the files are committed.

Run with Debian's python3-torch (1.13): /usr/bin/python3 gen_pytorch_cnn.py
"""
import json

import torch

torch.manual_seed(1)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1),
    torch.nn.BatchNorm2d(4),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 6, 3),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(6 * 3 * 3, 3),
    torch.nn.Softmax(dim=1),
)
# Statistics and affine parameters far from their initial values, as after
# training, so that a wrong reading shows in the outputs.
with torch.no_grad():
    bn = net[1]
    bn.running_mean.copy_(torch.randn(4))
    bn.running_var.copy_(torch.rand(4) * 2 + 0.1)
    bn.weight.copy_(torch.randn(4))
    bn.bias.copy_(torch.randn(4))
net.eval()

x = torch.rand(5, 1, 10, 10)
with torch.no_grad():
    y = net(x)

torch.onnx.export(
    net, x, "pytorch_cnn.onnx", opset_version=13,
    input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
)
# The same network without constant folding keeps BatchNormalization as
# its own node (by default PyTorch folds it into the convolution).
torch.onnx.export(
    net, x, "pytorch_cnn_bn.onnx", opset_version=13, do_constant_folding=False,
    training=torch.onnx.TrainingMode.PRESERVE,
    input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
)
# One channel: the NCHW input is the NHWC input myelin takes, row by row.
with open("pytorch_cnn.json", "w") as f:
    json.dump({"torch": torch.__version__, "input": x.reshape(5, -1).tolist(), "output": y.tolist()}, f, indent=1)
    f.write("\n")
