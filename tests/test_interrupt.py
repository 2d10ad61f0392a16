"""Interrupting a run (SIGINT, SIGTERM, SIGKILL) loses nothing finished, and --resume continues the same file."""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import rnnbench_env, rnnbench_process
from suite_texts import wall_clock_suite
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.results.resume import new_document
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results, save_atomic
from rnnbench.run import driver as driver_module
from rnnbench.run.executors.unit import UnitRunner
from rnnbench.run.interrupts import Interrupted, interrupts_raise, resume_command
from rnnbench.suite.expand import load_suite

cli = CliRunner()

SLOW_SUITE = wall_clock_suite("slow", 1.0, [5, 6])  # two units: the second in flight when the first is saved


def _read_if_there(path: Path) -> dict | None:
    """The results file, or None before it exists; a half-written file would fail json.loads here."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return json.loads(text)


def _wait_for_finished_case(process: subprocess.Popen, path: Path, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        doc = _read_if_there(path)
        if doc and any(c["status"] == "ok" for c in doc["cases"]):
            return
        assert process.poll() is None, f"the run ended early: {process.communicate()}"
        time.sleep(0.02)
    process.kill()
    pytest.fail("no case finished in time")


def _interrupt_after_first_case(tmp_path: Path, signum: int, *extra: str) -> tuple[Path, Path, str, str, int]:
    """A real run, sent `signum` as soon as its first case is saved (the second is then in flight)."""
    folder = tmp_path / "a dir with spaces"
    folder.mkdir()
    suite = folder / "slow suite.yaml"
    suite.write_text(SLOW_SUITE)
    out = folder / "it's results.json"
    process = rnnbench_process("run", str(suite), "--out", str(out), *extra)
    _wait_for_finished_case(process, out)
    time.sleep(0.3)  # past the progress update between cases, well inside the second case's 1 s of training
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return suite, out, stdout, stderr, process.returncode


def _resume_words(stderr: str) -> list[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("resume with: "))
    return shlex.split(line.removeprefix("resume with: "))


@pytest.mark.processes
def test_sigint_saves_finished_cases_then_resume_completes_the_same_file(tmp_path):
    suite, out, stdout, stderr, code = _interrupt_after_first_case(tmp_path, signal.SIGINT, "--quiet")
    assert code == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    doc = load_results(out)
    assert doc["status"] == "interrupted"
    assert [c["status"] for c in doc["cases"]] == ["ok", "interrupted"]
    assert doc["cases"][1]["error"] == "interrupted by SIGINT"
    assert f"1 finished case(s) saved in {out}" in stderr
    words = _resume_words(stderr)
    assert words == ["rnnbench", "run", str(suite), "--resume", str(out)], (
        "paths with spaces and quotes survive quoting"
    )
    first = doc["cases"][0]

    resumed = cli.invoke(app, [*words[1:], "--quiet"])  # in this process: the same code, without a second start-up
    assert resumed.exit_code == 0, resumed.output
    done = load_results(out)
    assert done["status"] == "complete" and len(done["resumed_at"]) == 1
    assert [(c["id"], c["status"]) for c in done["cases"]] == [
        ("adding/T5/lstm/h8/s0", "ok"),
        ("adding/T6/lstm/h8/s0", "ok"),
    ]
    assert done["cases"][0] == first, "a finished case is kept as it was, not run again"
    assert not list(out.parent.glob("*.tmp")), "no temporary file left behind"


@pytest.mark.processes
def test_sigterm_during_the_live_display_exits_143_with_the_file_saved(tmp_path):
    _, out, stdout, stderr, code = _interrupt_after_first_case(tmp_path, signal.SIGTERM)
    assert code == 143, (stdout, stderr)
    doc = load_results(out)
    assert [c["status"] for c in doc["cases"]] == ["ok", "interrupted"]
    assert doc["cases"][1]["error"] == "interrupted by SIGTERM"
    assert _resume_words(stderr)[-2:] == ["--resume", str(out)]


KILL_WRITER = """
import sys
from rnnbench.results.store import save_atomic
from rnnbench.results.resume import new_document

doc = new_document({"name": "k"}, "k.yaml", {"device": "cpu"}, "0")
i = 0
while True:
    i += 1
    doc["counter"] = i
    doc["cases"] = [
        {"id": f"c{j}", "arch": "lstm", "task": "adding", "seq_len": 5, "seed": 0, "status": "failed", "error": "x" * 2000}
        for j in range(i % 300 + 1)
    ]
    save_atomic(sys.argv[1], doc)
"""


@pytest.mark.processes
def test_sigkill_in_the_middle_of_writes_never_leaves_a_broken_file(tmp_path):
    """A process saving (up to 600 kB) in a loop is killed at random moments; the file is always whole."""
    path = tmp_path / "r.json"
    rng = random.Random(0)
    for _ in range(8):  # about 40 % of kills land while a temporary file is open
        process = subprocess.Popen([sys.executable, "-c", KILL_WRITER, str(path)], env=rnnbench_env())
        deadline = time.monotonic() + 60
        while (_read_if_there(path) or {}).get("counter", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        process.kill()
        process.wait()
        doc = load_results(path)
        assert len(doc["cases"]) == doc["counter"] % 300 + 1, "the cases and the counter come from the same save"


def test_a_crash_inside_save_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    old = new_document({"name": "t"}, "t.yaml", {"device": "cpu"}, "0")
    save_atomic(path, old)

    def crash(_fd):
        raise KeyboardInterrupt  # as if a second Ctrl-C landed between write and rename

    monkeypatch.setattr("rnnbench.results.store.os.fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        save_atomic(path, {**old, "status": "complete"})
    assert load_results(path)["status"] == "running"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_second_signal_while_saving_is_ignored_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGINT)
    saved = False
    with interrupts_raise():
        with pytest.raises(Interrupted) as info:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs before this returns
        assert info.value.exit_code == 143 and str(info.value) == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)  # within the grace period: ignored, the save goes on
        time.sleep(0.05)
        saved = True
    assert saved and signal.getsignal(signal.SIGINT) is before


def test_resume_command_quotes_every_word():
    command = resume_command("my suite.yaml", Path("out dir/it's.json"), "cuda:1", 99)
    assert shlex.split(command) == [
        "rnnbench",
        "run",
        "my suite.yaml",
        "--resume",
        "out dir/it's.json",
        "--device",
        "cuda:1",
        "--max-cases",
        "99",
    ]
    assert resume_command("quick", Path("r.json"), None, None) == "rnnbench run quick --resume r.json"


# In-process run_suite with stand-ins for the heavy parts: the interrupt bookkeeping alone.

TWO_CASES = """
name: two
device: cpu
models: [lstm, gru]
tasks: [{task: adding, seq_len: 5}]
"""


# Two timing groups (seq_len differs), so one can finish while the other is in flight.
TWO_UNITS = """
name: two-units
device: cpu
models: [lstm]
tasks: [{task: adding, seq_len: 5}, {task: adding, seq_len: 6}]
"""


def _ok_record(case) -> dict:
    return {
        "id": case.id,
        "label": case.label,
        "arch": case.arch,
        "task": case.task,
        "seq_len": case.seq_len,
        "seed": case.seed,
        "status": "ok",
        "error": None,
        "train": {"final": {"loss": 0.1, "metric": 0.1}},
    }


@pytest.fixture
def quick_runner(monkeypatch):
    """run_suite without timings (the reference matmul is conftest's fixed one); returns the ids of the cases trained,
    in order."""
    monkeypatch.setattr(driver_module, "assemble", lambda case, options, speed, trained: trained)
    calls: list[str] = []

    def fake_train_case(case, options, on_event):
        calls.append(case.id)
        return _ok_record(case)

    # the CLI's run builds no runner of its own: it gets the driver's default, stood in for here
    monkeypatch.setattr(driver_module, "RUN_UNIT", UnitRunner(_no_timings, fake_train_case))
    return calls


def _no_timings(cases, on_event):
    return {c.id: {} for c in cases}


def test_run_suite_marks_the_case_in_flight_interrupted(write_suite, tmp_path, quick_runner, monkeypatch):
    suite, cases, path = load_suite(write_suite(TWO_UNITS))

    def second_is_interrupted(case, options, on_event):
        if case.seq_len == 6:
            raise Interrupted(signal.SIGTERM)
        return _ok_record(case)

    out = tmp_path / "r.json"
    with pytest.raises(KeyboardInterrupt):
        run_unit = UnitRunner(_no_timings, second_is_interrupted)
        driver_module.run_suite(suite, cases, out, suite_path=str(path), run_unit=run_unit)
    doc = load_results(out)
    assert doc["status"] == "interrupted"
    assert [(c["seq_len"], c["status"], c["error"]) for c in doc["cases"]] == [
        (5, "ok", None),
        (6, "interrupted", "interrupted by SIGTERM"),
    ]


def test_an_interrupt_while_saving_a_finished_case_keeps_that_case(write_suite, tmp_path, quick_runner, monkeypatch):
    suite, cases, path = load_suite(write_suite(TWO_UNITS))
    real_save, saves = driver_module.save_atomic, []

    def save_interrupted_once(out, doc):
        saves.append(len(doc["cases"]))
        if len(saves) == 2:  # the save right after the first case finished
            raise KeyboardInterrupt
        real_save(out, doc)

    monkeypatch.setattr(driver_module, "save_atomic", save_interrupted_once)
    out = tmp_path / "r.json"
    with pytest.raises(KeyboardInterrupt):
        driver_module.run_suite(suite, cases, out)
    doc = load_results(out)
    assert [(c["seq_len"], c["status"]) for c in doc["cases"]] == [(5, "ok")], "finished, so not marked interrupted"
    assert doc["status"] == "interrupted"


def _interrupted_file(write_suite, tmp_path) -> tuple[Path, Path, list]:
    suite_path = write_suite(TWO_CASES)
    suite, cases, _ = load_suite(suite_path)
    from rnnbench.measure.env import env_fingerprint, resolve_device

    doc = new_document(
        suite.model_dump(mode="json"), str(suite_path), env_fingerprint(resolve_device("cpu"), "float32"), "0"
    )
    doc["reference"]["start"] = {"matmul_gflops": 1.0}
    interrupted = {key: value for key, value in _ok_record(cases[1]).items() if key != "train"}
    doc["cases"] = [_ok_record(cases[0]), {**interrupted, "status": "interrupted"}]
    doc["status"] = "interrupted"
    out = tmp_path / "r.json"
    save_atomic(out, doc)
    return suite_path, out, cases


def test_resume_runs_only_unfinished_cases_into_the_same_file(write_suite, tmp_path, quick_runner):
    suite_path, out, cases = _interrupted_file(write_suite, tmp_path)
    result = cli.invoke(app, ["run", str(suite_path), "--resume", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert quick_runner == [cases[1].id]
    doc = load_results(out)
    assert doc["status"] == "complete" and [c["status"] for c in doc["cases"]] == ["ok", "ok"]

    again = cli.invoke(app, ["run", str(suite_path), "--resume", str(out)])
    assert again.exit_code == 0 and "already complete" in again.output and quick_runner == [cases[1].id]


def test_resume_on_another_machine_is_refused(write_suite, tmp_path, quick_runner):
    suite_path, out, _ = _interrupted_file(write_suite, tmp_path)
    doc = load_results(out)
    doc["env"]["device_name"] = "Some Other CPU"
    save_atomic(out, doc)
    result = cli.invoke(app, ["run", str(suite_path), "--resume", str(out), "--quiet"])
    assert result.exit_code == 2 and "device_name 'Some Other CPU'" in result.output and not quick_runner


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda text: text.replace("seq_len: 5", "seq_len: 6"), "tasks[0].seq_len: 5 in the file, 6 now"),
        (lambda text: text.replace("[lstm, gru]", "[lstm, gru, rnn]"), "models"),
        (lambda text: text + "seeds: [0, 1]\n", "seeds"),
        (lambda text: text.replace("name: two", "name: other"), "holds suite 'two', not 'other'"),
    ],
)
def test_resume_with_an_edited_suite_is_refused(write_suite, tmp_path, edit, expected):
    suite_path, out, _ = _interrupted_file(write_suite, tmp_path)
    suite_path.write_text(edit(textwrap.dedent(TWO_CASES)))
    result = cli.invoke(app, ["run", str(suite_path), "--resume", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output and result.output.strip().count("\n") == 0


def test_resume_ignores_an_edited_description_and_refuses_a_different_out(write_suite, tmp_path, quick_runner):
    suite_path, out, _ = _interrupted_file(write_suite, tmp_path)
    clash = cli.invoke(app, ["run", str(suite_path), "--resume", str(out), "--out", str(tmp_path / "other.json")])
    assert clash.exit_code == 2 and "--out and --resume" in clash.output
    suite_path.write_text(textwrap.dedent(TWO_CASES) + "description: now with words\n")
    assert cli.invoke(app, ["run", str(suite_path), "--resume", str(out), "--quiet"]).exit_code == 0


def test_cli_interrupt_message_and_exit_code(write_suite, tmp_path, monkeypatch):
    suite_path = write_suite(TWO_CASES)
    out = tmp_path / "r.json"

    def interrupted_run(suite, cases, out_path, **kwargs):
        doc = new_document(suite.model_dump(mode="json"), "", {"device": "cpu"}, "0")
        doc["cases"] = [_ok_record(cases[0])]
        doc["status"] = "interrupted"
        save_atomic(out_path, doc)
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(driver_module, "run_suite", interrupted_run)
    result = cli.invoke(app, ["run", str(suite_path), "--out", str(out), "--max-cases", "7", "--quiet"])
    assert result.exit_code == 143
    assert f"interrupted by SIGTERM: 1 finished case(s) saved in {out}" in result.output
    assert f"resume with: rnnbench run {suite_path} --resume {out} --max-cases 7" in result.output


def test_results_error_names_the_file_when_resuming_from_garbage(write_suite, tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text('{"schema_version": 1, "suite": {"name": "two"}, "env": {}, "ca')
    result = cli.invoke(app, ["run", str(write_suite(TWO_CASES)), "--resume", str(bad)])
    assert result.exit_code == 2 and str(bad) in result.output and "not valid JSON" in result.output
    with pytest.raises(ResultsError):
        load_results(bad)
