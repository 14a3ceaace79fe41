"""Turning tool results into output: console views, JUnit XML, JSON, GitHub annotations.

Import the submodule you need; this package imports nothing so that loading one report
format (say, ``huskycat.report.junit`` in a git hook) never pulls in rich.
"""
