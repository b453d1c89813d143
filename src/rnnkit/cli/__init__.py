"""The ``rnnkit`` command line: ``rnnkit GROUP VERB``. Each group is one thin module."""
