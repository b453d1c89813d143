"""Metrics not owned by a library: :mod:`~rnnkit.metrics.forecast` (sMAPE, MASE, OWA,
interval coverage...) and :mod:`~rnnkit.metrics.labels` (accuracy, per-class P/R/F1,
confusion matrices)."""
