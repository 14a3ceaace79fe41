"""The built-in tool catalog: one module per tool, each exposing ``SPEC: ToolSpec``.

:mod:`huskycat.tools.catalog` gathers them; :mod:`huskycat.tools.runner` runs one.
"""
