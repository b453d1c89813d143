"""rnnkit.nn.CellRNN: any cell by name behind torch.nn's recurrent calling convention."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit.cells import GRUCell, register_cell, unregister_cell
from rnnkit.nn import CellRNN


def _copy_from_torch(ours: CellRNN, theirs: torch.nn.Module) -> None:
    """torch.nn's flat parameters (weight_ih_l1_reverse...) into the stack's cells."""
    for layer_index, layer in enumerate(ours.stack.layers):
        runs = [layer.forward_layer, layer.backward_layer] if ours.bidirectional else [layer]
        for direction, run in enumerate(runs):
            suffix = f"_l{layer_index}" + ("_reverse" if direction else "")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(run.cell, name).data.copy_(getattr(theirs, name + suffix))


@pytest.mark.parametrize(("kind", "torch_class"), [("lstm", torch.nn.LSTM),
                                                   ("gru", torch.nn.GRU)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_equals_torch_nn_with_states_directions_and_layers(kind, torch_class, batch_first) -> None:
    torch.manual_seed(0)
    theirs = torch_class(3, 5, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    ours = CellRNN(kind, 3, 5, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    _copy_from_torch(ours, theirs)
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    x = x.transpose(0, 1) if batch_first else x
    h0 = torch.randn(4, 4, 5, dtype=torch.float64)
    hx = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    out_theirs, h_theirs = theirs(x, hx)
    out_ours, h_ours = ours(x, hx)
    torch.testing.assert_close(out_ours, out_theirs)
    for a, b in zip(h_ours if kind == "lstm" else (h_ours,),
                    h_theirs if kind == "lstm" else (h_theirs,)):
        torch.testing.assert_close(a, b)


def test_packed_and_unbatched_inputs_match_torch_nn() -> None:
    torch.manual_seed(1)
    theirs = torch.nn.GRU(3, 4).double()
    ours = CellRNN("gru", 3, 4).double()
    _copy_from_torch(ours, theirs)
    x = torch.randn(6, 3, 3, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor([6, 4, 2]), enforce_sorted=False)
    (p_ours, h_ours), (p_theirs, h_theirs) = ours(packed), theirs(packed)
    torch.testing.assert_close(p_ours.data, p_theirs.data)
    torch.testing.assert_close(h_ours, h_theirs)
    torch.testing.assert_close(ours(x[:, 0])[0], theirs(x[:, 0])[0])


def test_a_registered_cell_is_usable_by_name() -> None:
    register_cell("test-gru-dropin", lambda i, h, **kw: GRUCell(i, h, **kw))
    try:
        rnn = CellRNN("test-gru-dropin", 3, 4, num_layers=2)
        out, h = rnn(torch.randn(5, 2, 3))
        assert out.shape == (5, 2, 4) and h.shape == (2, 2, 4)
    finally:
        unregister_cell("test-gru-dropin")
