"""Inference paths (eager, TorchScript, torch.compile, ONNX Runtime, dynamic int8): prepare, check against eager, time paired."""
