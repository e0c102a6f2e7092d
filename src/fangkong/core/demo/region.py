"""The demo region: one real province, two real cities, six real counties, their townships and communities.

Province, cities, counties and townships are the official ones (MCA code table, see
``fangkong.core.divisions``); communities are generated under each township with codes in the National
Bureau of Statistics' 12-digit layout (township code + 3 digits, 001-199 for urban residents'
committees 社区, 200-399 for villages 村), so codes and names read like the real thing without
claiming to be real.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fangkong.core.divisions import Division, national_townships, national_tree

# Zhejiang: Hangzhou's three central districts and, in Ningbo, two urban districts and a rural county
# (象山县), so the demo has streets (街道) as well as towns (镇) and townships (乡) with villages.
DEMO_PROVINCE = "330000"
DEMO_COUNTIES: dict[str, tuple[str, ...]] = {
    "330100": ("330102", "330105", "330106"),
    "330200": ("330203", "330205", "330225"),
}
# Communities generated under each township (modelling choice: with 200,000 residents this gives
# about 800 residents per community).
COMMUNITIES_PER_TOWNSHIP = 3
# Seed of the name picks, so the demo region is the same on every machine.
DEMO_REGION_SEED = 2020

# Roots of community and village names: common, place-neutral words of Chinese residential names.
COMMUNITY_NAME_ROOTS = (
    "翠苑", "文新", "桂花", "丰潭", "青枫", "紫荆", "和睦", "星洲", "春晖", "金沙", "丹桂", "梧桐",
    "湖畔", "玉泉", "双桥", "竹园", "枫林", "明珠", "东湖", "南苑", "北园", "锦绣", "阳光", "海棠",
    "兰亭", "云栖", "莲花", "银杏", "香樟", "望江", "新桥", "古荡", "塘苗", "景湖", "清河", "松木",
    "石桥", "长丰", "百合", "柳营", "花园", "新塘", "华星", "益乐", "嘉绿", "西溪", "庆丰", "荷花",
    "朝晖", "潮鸣", "文苑", "德胜", "永安", "富春", "凤凰", "黄龙", "芳草", "绿洲", "天水", "安吉",
)  # fmt: skip


@dataclass(frozen=True)
class DemoRegion:
    province: Division
    cities: tuple[Division, ...]
    counties: tuple[Division, ...]
    townships: tuple[Division, ...]
    communities: tuple[Division, ...]

    def all_divisions(self) -> list[Division]:
        """Every division of the region, parents before children."""
        return [self.province, *self.cities, *self.counties, *self.townships, *self.communities]


def demo_region_spec(communities_per_township: int = COMMUNITIES_PER_TOWNSHIP) -> DemoRegion:
    """Build the demo region from the national tables (same result on every call)."""
    by_code = {d.code: d for d in national_tree()}
    province = by_code[DEMO_PROVINCE]
    cities = tuple(by_code[c] for c in DEMO_COUNTIES)
    counties = tuple(by_code[c] for codes in DEMO_COUNTIES.values() for c in codes)
    county_codes = {c.code for c in counties}
    townships = tuple(t for t in national_townships() if t.parent_code in county_codes)
    rng = np.random.default_rng(DEMO_REGION_SEED)
    communities: list[Division] = []
    for township in townships:
        roots = rng.choice(len(COMMUNITY_NAME_ROOTS), size=communities_per_township, replace=False)
        # A street (街道) has urban communities; a town or township has one community at its seat and
        # villages around it.
        urban = township.name.endswith("街道")
        for i, root in enumerate(roots):
            is_community = urban or i == 0
            serial = (1 + i) if is_community else (200 + i)
            suffix = "社区" if is_community else "村"
            communities.append(
                Division(
                    code=f"{township.code}{serial:03d}",
                    name=f"{COMMUNITY_NAME_ROOTS[root]}{suffix}",
                    level="community",
                    parent_code=township.code,
                )
            )
    return DemoRegion(province, cities, counties, townships, tuple(communities))
