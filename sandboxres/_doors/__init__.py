"""The front doors: how users reach the engine.

The sync context managers (``sync``) and their shared lifecycle bookkeeping, pytest fixtures, unittest support,
the sweeper, the session-wide redirect plugin and the command line. The async twin is the public module
``sandboxres.aio``; the pytest plugin is ``sandboxres.pytest_plugin``.
"""
