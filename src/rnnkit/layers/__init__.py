"""Layers that run cells through time (Recurrent, Bidirectional, Stack) and attention."""

from rnnkit.layers.attention import Attention
from rnnkit.layers.bidirectional import MERGES, Bidirectional
from rnnkit.layers.masks import lengths_to_mask
from rnnkit.layers.recurrent import BACKENDS, Recurrent, Trajectory
from rnnkit.layers.stack import Stack, build_stack

__all__ = [
    "Attention",
    "BACKENDS",
    "MERGES",
    "Bidirectional",
    "Recurrent",
    "Stack",
    "Trajectory",
    "build_stack",
    "lengths_to_mask",
]
