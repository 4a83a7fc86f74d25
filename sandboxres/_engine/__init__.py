"""The engine: what a resource lifecycle is, without I/O.

The exception hierarchy, redaction of text, durations, names, the step vocabulary of plans and the
classification of AWS errors. Nothing here imports boto3 or aioboto3, opens a connection or sleeps, and nothing
here imports the runtime, the safety layer or the front doors (``tests/test_architecture.py`` enforces it).
"""
