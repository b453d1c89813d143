"""Tasks: each builds its model from a config, defines batch -> loss, its metrics and predict."""
