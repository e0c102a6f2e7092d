"""The registry population of a jurisdiction (``--region``), which ``simulate`` and ``account`` can run
on instead of a generated population.
"""

from __future__ import annotations

from fangkong.modeling.cli.common import _fail

# Jurisdiction whose registry ``--region demo`` reads: the demo region's province (core.demo.region).
DEMO_REGION_CODE = "330000"


def _region_population(region: str, seed: int) -> tuple[object, str]:
    """The registry population of a jurisdiction code (``demo``: the demo province), and its name."""
    import numpy as np

    from fangkong.core import jurisdictions
    from fangkong.core.cli import open_database
    from fangkong.core.people import population_arrays
    from fangkong.modeling import population
    from fangkong.vaccination.service.population import protected

    code = DEMO_REGION_CODE if region == "demo" else region
    db = open_database()
    try:
        with db.unit_of_work() as session:
            node = jurisdictions.by_code(session, code)
            if node is None:
                _fail(f"--region {region}: no jurisdiction {code} in the database (load it: fangkong demo)")
            arrays = population_arrays(session, node.path)
            vaccinated = protected(session, arrays.person_id)
            name = node.name
    finally:
        db.dispose()
    if arrays.size == 0:
        _fail(f"--region {region}: nobody is registered in {name} (load the demo region: fangkong demo)")
    return population.from_registry(
        arrays, np.random.default_rng(seed), vaccinated
    ), f"{name} registry, {arrays.size:,} people"
