"""The lecture suite: its Keras snippets as cases, validated and run at tiny sizes."""

from __future__ import annotations

from rnnbench.run.runner import run_case
from rnnbench.suite.expand import expand, parse_suite
from rnnbench.suite.files import builtin_suite_dir, read_yaml


def test_lecture_suite_runs_every_variant_at_tiny_sizes():
    data = read_yaml(builtin_suite_dir() / "lecture.yaml")
    data["device"] = "cpu"
    data["defaults"].update(
        train={"max_steps": 2, "max_seconds": 5, "eval_every": 1, "eval_size": 8},
        timing={"warmup": 0, "min_repeats": 1, "max_repeats": 1, "max_seconds": 0.01},
        inference={"batch_sizes": [2]},
        batch_size=4,
    )
    for task in data["tasks"]:  # sine's 50 steps through the cell loop and the scripted cells test nothing more
        task["seq_len"] = 5
    cases = expand(parse_suite(data, "lecture.yaml"))
    runs = {(case.task, case.label): run_case(case) for case in cases}
    assert all(r["status"] == "ok" for r in runs.values()), {k: r.get("error") for k, r in runs.items()}
    assert {task for task, _ in runs} == {"copy", "sine"}
    records = {label: record for (task, label), record in runs.items() if task == "copy"}
    assert records["RNN-LSTMCell20"]["backend"] == "python-loop"
    assert records["LSTM20"]["backend"] in {"onednn", "native"}
    stacked = records["LSTM20x2-Dense10"]
    assert stacked["hidden_sizes"] == [20, 20] and stacked["num_layers"] == 2
    # Two LSTM(20) layers on 10 one-hot inputs, then Dense(10) per step (PyTorch keeps two bias vectors, Keras one).
    assert stacked["n_params"] == 4 * (20 * (10 + 20) + 2 * 20) + 4 * (20 * (20 + 20) + 2 * 20) + 20 * 10 + 10
    assert records["peephole20"]["n_core_params"] == records["LSTM20"]["n_core_params"] + 3 * 20
    assert records["LSTM20-fb1"]["settings"]["forget_bias"] == 1.0
