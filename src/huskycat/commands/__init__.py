"""One module per command-line verb; :mod:`huskycat.cli` maps verbs to them."""
