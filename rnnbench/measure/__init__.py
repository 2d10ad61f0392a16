"""Measurement: the timer, train-step phases and inference, kernel backend, memory, FLOPs, environment."""
