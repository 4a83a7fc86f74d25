"""The runtime: where plans meet the SDK.

Target resolution from the environment, SDK sessions and clients, the embedded emulator, the sync and async
drivers that perform a plan's steps, and the process-wide bound on table operations. Imports the engine and the
kinds, never the safety layer or the front doors.
"""
