"""Drop-in replacements for torch.nn's recurrent modules and cells.

``from rnnkit import nn as rnn``; then ``rnn.LSTM(...)`` takes exactly torch.nn.LSTM's arguments
(plus ``backend="auto" | "native" | "reference"``), has its parameters and returns its results;
``rnn.LSTMCell(...)`` is torch.nn.LSTMCell and also an rnnkit cell for
:class:`rnnkit.layers.Recurrent`. See :mod:`rnnkit.nn.modules` and :mod:`rnnkit.nn.cells`.
``rnn.CellRNN("ln-gru", ...)`` runs any cell by name (a registered one of your own too) behind
the same calling convention.
"""

from rnnkit.nn.by_name import CellRNN
from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.modules import BACKENDS, GRU, LSTM, RNN

__all__ = ["BACKENDS", "GRU", "CellRNN", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]
