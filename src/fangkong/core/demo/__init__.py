"""Synthetic demo data: the demo region (real codes) and its population (generated residents)."""

from fangkong.core.demo.population import Population, generate_population, write_people_csv
from fangkong.core.demo.region import DemoRegion, demo_region_spec

__all__ = ["DemoRegion", "Population", "demo_region_spec", "generate_population", "write_people_csv"]
