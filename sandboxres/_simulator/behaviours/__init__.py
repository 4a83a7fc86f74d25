"""What the simulator imitates of AWS: one :class:`Behaviour` per fact, grouped in a module per service area.

Each behaviour names the AWS fact it imitates and where AWS documents it, has default settings (AWS durations in
seconds, before the profile's speed divides them; probabilities), and installs the proxy rules that imitate it.
"""

from __future__ import annotations

from sandboxres._simulator.behaviours import buckets, consistency, control_plane, deliveries, queues, streams, tables
from sandboxres._simulator.behaviours.base import Behaviour, Context

# Control-plane faults first: only the first matching rule answers a request, and the state rules of tables,
# buckets and queues match every control-plane call of their kind.
BEHAVIOURS: tuple[Behaviour, ...] = (
    *control_plane.BEHAVIOURS,
    *tables.BEHAVIOURS,
    *consistency.BEHAVIOURS,
    *streams.BEHAVIOURS,
    *buckets.BEHAVIOURS,
    *queues.BEHAVIOURS,
    *deliveries.BEHAVIOURS,
)
BY_NAME = {behaviour.name: behaviour for behaviour in BEHAVIOURS}

__all__ = ["BEHAVIOURS", "BY_NAME", "Behaviour", "Context"]
