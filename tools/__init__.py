"""Contributor tools run by nox sessions, kept apart from the contract documents in spec/.

A regular package, so tests import the tools by name (``from tools import spec_breaking``)
and no installed distribution's ``tools`` can shadow them.
"""
