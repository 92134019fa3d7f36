"""The resources part: departments' resources, typed by a catalog, and their status.

A resource typing catalog (rescue team tiers I/II/III, drainage pumps in m³/h,
generators in kW, ambulances, shelters, tents, water, food …) describes what a
department keeps; each resource has a quantity, a capability in its type's measure, a
location, a status (available, assigned, en route, on scene, out of service, released)
and a readiness (ready in N minutes). Loaded from the pack's ``resources.yaml`` and
changed through the bus; shown on the resource board and the situation map.
"""
