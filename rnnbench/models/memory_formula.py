"""Training memory from the formula (torch-free): what one training step keeps, in bytes, per kernel path.

What a step keeps is the parameters, their gradients, the optimizer's state and the tensors the
forward saves for backward. The saved tensors depend on the kernel path, not only on the cell, so
the formula is written per path (`PATHS`), from the saved tensors' shapes as the autograd hooks
see them (`measure.memory.training_memory` counts the same things; tests/test_memory.py holds
the two to each other). Notation: T steps, B sequences, I inputs, H_l the hidden size of layer l,
I_l its input (I, then D·H_{l-1}), D directions, s bytes per element.

Per layer and direction, besides the shared terms below:

- `onednn` (fused LSTM on the CPU): the layer's outputs T·B·H and final h, c (2·B·H) and oneDNN's
  workspace (`onednn_workspace_bytes`: gates, states and their gradients, each page-aligned);
  the initial h and c, D·B·H_l each; the input copied once to time-major (T·B·I).
- `native` (fused GRU / tanh RNN on the CPU: ATen loops a cell in C++): GRU (7T-1)·B·H, tanh RNN
  T·B·H; the initial state D·B·H_l; the input copied once per direction (D·T·B·I).
- `cell` (Python loop over the cell kernel): LSTM (7T-2)·B·H, GRU (7T-1)·B·H, tanh RNN T·B·H,
  plus a zero initial state B·H; the input is the batch itself (T·B·I, once).
- `scripted` (hand-written backward): LSTM and GRU 7·T·B·H (hidden states plus gate and cell
  buffers), tanh RNN T·B·H; the input copied once per direction (D·T·B·I).

Between layers the next layer's input is a new T·B·D·H_{l-1} tensor (`native`, `cell`; `onednn`
and `scripted` reuse the outputs of a one-direction layer, and `scripted` flips a copy for the
backward direction). The head saves its input (B·D·H_last, or B·T·D·H_last per step); the loss
saves the outputs and targets (`LOSSES`). The peephole LSTM arch, packed (variable-length) inputs and
cuDNN (whose reserve space cuDNN sizes itself) have no formula here.

LSTM variants (`variant=`, Greff et al. 2017, `suite/variants.py`) have one on the `scripted` path (and `np` with
`impl: fused` is nn.LSTM, the `onednn` path): the scripted LSTM's terms with the variant's parameters (its
blocks, peepholes and FGR's 9H² per layer and direction), plus what `models/variants.py` assembles from them each
step: the full 4-gate W_hh (4H·H) and the stacked peepholes (3H), saved per layer and direction, an R placeholder
(1 element) where there is no gate recurrence, and, above layer 0, the full W_ih (4H·I_l) that the input's gradient
needs. The peepholes' gradients are views of one 3H storage per layer and direction.
"""

from __future__ import annotations

from rnnbench.catalog import MODEL_SPECS
from rnnbench.models.params import cell_params, layer_sizes, variant_params
from rnnbench.suite.variants import VARIANTS, canonical_variant

PATHS = ("onednn", "native", "cell", "scripted")
LOSSES = ("mse", "bce", "cross_entropy")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")

ONEDNN_PAGE = 4096  # oneDNN places every workspace part at a page boundary
STEP_COUNTER_BYTES = 4  # Adam's and RMSprop's `step`: a float32 scalar tensor per parameter tensor
INDEX_BYTES = 8  # int64 class targets
TENSORS_PER_LAYER_DIRECTION = 4  # weight_ih, weight_hh, bias_ih, bias_hh
HEAD_TENSORS = 2

# Saved per layer and direction, in units of B·H·s, as (per step, once): see the module docstring.
_RECURRENCE = {
    ("native", "gru"): (7, -1),
    ("native", "rnn"): (1, 0),
    ("cell", "lstm"): (7, -2),
    ("cell", "gru"): (7, -1),
    ("cell", "rnn"): (1, 0),
    ("scripted", "lstm"): (7, 0),
    ("scripted", "gru"): (7, 0),
    ("scripted", "rnn"): (1, 0),
}


def formula_path(impl: str, backend: str | None) -> str | None:
    """The formula's path for a model built with `impl` whose forward ran on `backend` (measure.backend), or None."""
    if impl in ("cell", "scripted"):
        return impl
    return backend if backend in ("onednn", "native") else None


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _onednn_leading_dim(elements: int, dtype_bytes: int = 4) -> int:
    """oneDNN's row stride: whole 64-byte cache lines, and never a multiple of 256 elements (4K aliasing)."""
    per_line = 64 // dtype_bytes
    stride = _round_up(elements, per_line)
    return stride + per_line if stride % 256 == 0 else stride


def onednn_workspace_bytes(seq_len: int, batch: int, input_size: int, hidden: int) -> int:
    """The workspace oneDNN's LSTM keeps for backward, one layer and direction, float32.

    Gates T·B·4H, hidden states T·B·H, then over T+1 steps: the layer states, their gradient and the
    gradient of the hidden state (rows of max(I, H)), the cell states and their gradient (rows of H).
    """
    ld = _onednn_leading_dim
    page = lambda nbytes: _round_up(nbytes, ONEDNN_PAGE)  # noqa: E731
    steps = 2 * (seq_len + 1) * batch  # (one layer + its input) · (T + 1 steps) · B rows
    return (
        page(seq_len * batch * ld(4 * hidden) * 4)
        + page(seq_len * batch * ld(hidden) * 4)
        + 3 * page(steps * ld(max(input_size, hidden)) * 4)
        + 2 * page(steps * hidden * 4)
    )


def _layer_input_elements(path: str, layer: int, directions: int, seq_len: int, batch: int, width: int) -> int:
    """The input a layer saves beyond what earlier layers saved, in elements; `width` is its per-step size."""
    sequence = seq_len * batch * width
    if layer == 0:
        return sequence if path in ("onednn", "cell") else directions * sequence
    if path in ("native", "cell"):
        return sequence
    if directions == 1:
        return 0  # the previous layer's outputs, saved already
    return sequence if path == "onednn" else 2 * sequence  # scripted: the outputs and a flipped copy


def _core_saved_elements(
    cell: str, path: str, seq_len: int, batch: int, input_size: int, hidden_sizes: list[int], directions: int
) -> int:
    elements = 0
    width = input_size
    for layer, hidden in enumerate(hidden_sizes):
        elements += _layer_input_elements(path, layer, directions, seq_len, batch, width)
        rows = batch * hidden
        if path == "onednn":
            # outputs, final h and c; initial h and c (one storage each, per layer)
            elements += directions * (seq_len * rows + 2 * rows) + 2 * directions * rows
        else:
            per_step, once = _RECURRENCE[(path, cell)]
            elements += directions * (per_step * seq_len + once) * rows
            # initial state: one zero tensor per layer and direction (cell) or per layer (native)
            elements += directions * rows if path in ("cell", "native") else 0
        width = directions * hidden
    return elements


def _loss_saved_bytes(loss: str, predictions: int, output_size: int, dtype_bytes: int) -> int:
    if loss in ("mse", "bce"):
        return 2 * predictions * output_size * dtype_bytes  # outputs and same-shaped targets
    if loss == "cross_entropy":
        # log-probabilities, int64 targets, and the loss's total weight (a float32 scalar)
        return predictions * output_size * dtype_bytes + predictions * INDEX_BYTES + 4
    raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")


def optimizer_state_bytes(optimizer: str, n_params: int, n_tensors: int, dtype_bytes: int = 4) -> int:
    """State of `run.train.make_optimizer`'s optimizers (default settings) after a step.

    Adam/AdamW: exp_avg and exp_avg_sq per parameter and a step counter per tensor; RMSprop:
    square_avg and the counter; SGD (no momentum): nothing.
    """
    moments = {"adam": 2, "adamw": 2, "rmsprop": 1, "sgd": 0}
    if optimizer not in moments:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    counters = n_tensors * STEP_COUNTER_BYTES if moments[optimizer] else 0
    return moments[optimizer] * n_params * dtype_bytes + counters


def _variant_saved_elements(variant: str, input_size: int, hidden_sizes: list[int], directions: int) -> int:
    """What a scripted variant saves beyond the scripted LSTM, in elements (see the module docstring)."""
    spec = VARIANTS[variant]
    elements = 0
    width = input_size
    for layer, hidden in enumerate(hidden_sizes):
        per_direction = 4 * hidden * hidden + 3 * hidden + (0 if spec.full_gate_recurrence else 1)
        per_direction += 4 * hidden * width if layer > 0 else 0
        elements += directions * per_direction
        width = directions * hidden
    return elements


def _core_parameters(
    cell: str, variant: str | None, input_size: int, hidden_sizes: list[int], directions: int
) -> tuple[int, int, int]:
    """(parameters, parameter tensors, gradient elements beyond the parameters) of the recurrent core."""
    layers = directions * len(hidden_sizes)
    if variant is None:
        return cell_params(cell, input_size, hidden_sizes, directions == 2), TENSORS_PER_LAYER_DIRECTION * layers, 0
    spec = VARIANTS[variant]
    tensors = TENSORS_PER_LAYER_DIRECTION + len(spec.peepholes) + (1 if spec.full_gate_recurrence else 0)
    extra = directions * sum((3 - len(spec.peepholes)) * hidden for hidden in hidden_sizes) if spec.peepholes else 0
    return variant_params(variant, input_size, hidden_sizes, directions == 2), tensors * layers, extra


def training_memory_formula(
    arch: str,
    path: str,
    *,
    seq_len: int,
    batch_size: int,
    input_size: int,
    hidden_size: int | list[int],
    num_layers: int = 1,
    output_size: int,
    output_kind: str,
    loss: str = "mse",
    optimizer: str = "adam",
    dtype_bytes: int = 4,
    variant: str | None = None,
) -> dict[str, int]:
    """Bytes one training step keeps, with the keys of `measure.memory.training_memory` (no peak).

    `arch` is a model name (catalog.MODEL_SPECS), `path` one of PATHS, `output_kind` "last" or
    "sequence", `loss` one of LOSSES, `optimizer` one of OPTIMIZERS, `variant` an LSTM variant or None. Raises
    ValueError where there is no formula (peephole LSTMs, a path the cell does not run on, oneDNN other than
    float32, a variant other than on the scripted path or np on oneDNN).
    """
    spec = MODEL_SPECS[arch]
    cell, directions = spec.cell, spec.directions
    variant = _check_formula(cell, path, dtype_bytes, output_kind, variant)
    hidden_sizes = layer_sizes(hidden_size, num_layers)
    last = directions * hidden_sizes[-1]
    predictions = batch_size * (seq_len if output_kind == "sequence" else 1)
    saved_elements = _core_saved_elements(cell, path, seq_len, batch_size, input_size, hidden_sizes, directions)
    if variant is not None:
        saved_elements += _variant_saved_elements(variant, input_size, hidden_sizes, directions)
    saved = dtype_bytes * (saved_elements + predictions * last)  # the core, and the head's input
    if path == "onednn":
        layer_inputs = [input_size] + [directions * h for h in hidden_sizes[:-1]]
        saved += directions * sum(
            onednn_workspace_bytes(seq_len, batch_size, i, h) for i, h in zip(layer_inputs, hidden_sizes)
        )
    saved += _loss_saved_bytes(loss, predictions, output_size, dtype_bytes)
    core, core_tensors, gradient_extra = _core_parameters(cell, variant, input_size, hidden_sizes, directions)
    n_params = core + last * output_size + output_size
    parameters = n_params * dtype_bytes
    gradients = parameters + gradient_extra * dtype_bytes
    state = optimizer_state_bytes(optimizer, n_params, core_tensors + HEAD_TENSORS, dtype_bytes)
    return {
        "saved_for_backward_bytes": saved,
        "parameters_bytes": parameters,
        "gradients_bytes": gradients,
        "optimizer_state_bytes": state,
        "total_bytes": saved + parameters + gradients + state,
    }


def _check_formula(cell: str, path: str, dtype_bytes: int, output_kind: str, variant: str | None) -> str | None:
    """ValueError where the formula does not cover the case; the variant's canonical name (None for np on oneDNN,
    which is nn.LSTM itself)."""
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; expected one of {', '.join(PATHS)}")
    if cell == "peephole":
        raise ValueError("no memory formula for the peephole LSTM")
    if variant is not None:
        variant = canonical_variant(variant)
        if path == "onednn" and variant == "np":
            variant = None
        elif path != "scripted":
            raise ValueError(f"no memory formula for LSTM variant {variant!r} on the {path} path (only scripted)")
    if path == "onednn" and (cell != "lstm" or dtype_bytes != 4):
        raise ValueError("the oneDNN path runs the float32 LSTM only")
    if path == "native" and cell == "lstm":
        raise ValueError("a fused LSTM on the CPU runs on oneDNN; use path 'onednn'")
    if output_kind not in ("last", "sequence"):
        raise ValueError(f"unknown output_kind {output_kind!r}; expected 'last' or 'sequence'")
    return variant
