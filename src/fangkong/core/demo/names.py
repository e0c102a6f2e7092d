"""Plausible Chinese personal names for synthetic residents, built in bulk with numpy.

Surnames are drawn from common single-character surnames, weighted by rank; given names are one or two
characters picked from pools that depend on sex and birth cohort (a 1950s 秀英 or 建国, a 1990s 婷 or
磊, a 2010s 梓涵 or 浩宇), which is what makes a register look real at a glance. These are invented
people: no name is taken from a real person.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# The first twenty follow the ranking of the Ministry of Public Security's 2020 national name report
# (二〇二〇年全国姓名报告: 王 李 张 刘 陈 杨 黄 赵 吴 周, then 徐 孙 马 胡 朱 郭 何 罗 高 林);
# the rest are common surnames in rough order of frequency.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Weight of the surname at rank r is proportional to 1 / r: a Zipf approximation of the published
# surname frequencies (modelling choice, not a published figure).
SURNAME_ZIPF_EXPONENT = 1.0
# Share of given names with two characters rather than one (modelling choice; two-character given
# names are the large majority in the 2020 national name report).
TWO_CHARACTER_GIVEN_NAME_SHARE = 0.85
# Birth-year boundaries of the naming cohorts (modelling choice).
COHORT_BOUNDARIES = (1970, 2000)

# Given-name characters by cohort (born before 1970, 1970-1999, 2000 and later) and sex.
GIVEN_NAME_POOLS: dict[tuple[int, bool], str] = {
    (0, True): "建国华明军民强伟德文志平福林海成荣生永庆春祥富贵宝山义忠洪",
    (0, False): "秀英兰珍桂芳凤玉华梅琴淑云霞红丽萍美金莲菊香翠素月娥琼爱",
    (1, True): "伟磊勇军杰涛斌超鹏辉刚波健俊宇峰亮鑫晨浩明强飞平龙东阳锋凯",
    (1, False): "丽静敏燕艳娟婷雪琳慧颖倩莉娜芳玲丹洁晶瑶红霞蕾璐琪佳薇萍露",
    (2, True): "子浩宇轩梓博俊一泽睿辰铭然晨阳航豪文嘉诚逸宸瑞奕皓昊煜楷钧",
    (2, False): "子涵欣怡梓诗雨可萱琪佳思语彤一诺妍悦馨琳若汐依梦瑶雅芷沐晴",
}


def _codepoints(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


_SURNAME_CODES = _codepoints(SURNAMES)
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** SURNAME_ZIPF_EXPONENT
_SURNAME_WEIGHTS /= _SURNAME_WEIGHTS.sum()
_POOL_KEYS = sorted(GIVEN_NAME_POOLS)
_POOL_CODES = _codepoints("".join(GIVEN_NAME_POOLS[k] for k in _POOL_KEYS))
_POOL_LENGTHS = np.array([len(GIVEN_NAME_POOLS[k]) for k in _POOL_KEYS], dtype=np.int64)
_POOL_OFFSETS = np.concatenate([[0], np.cumsum(_POOL_LENGTHS)[:-1]])


def draw_surnames(n: int, rng: np.random.Generator) -> npt.NDArray[np.uint32]:
    """Unicode code points of ``n`` surnames drawn by rank weight."""
    return _SURNAME_CODES[rng.choice(_SURNAME_CODES.shape[0], size=n, p=_SURNAME_WEIGHTS)]


def compose_names(
    surnames: npt.NDArray[np.uint32],
    birth_years: npt.NDArray[np.int64],
    is_male: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> npt.NDArray[np.str_]:
    """Full names (surname + one or two given-name characters) as a ``<U3`` array."""
    n = surnames.shape[0]
    cohort = np.searchsorted(np.array(COHORT_BOUNDARIES), birth_years, side="right")
    # _POOL_KEYS is sorted as (cohort, is_male) with False before True.
    pool = cohort * 2 + is_male.astype(np.int64)
    lengths = _POOL_LENGTHS[pool]
    offsets = _POOL_OFFSETS[pool]
    first = _POOL_CODES[offsets + (rng.random(n) * lengths).astype(np.int64)]
    second = _POOL_CODES[offsets + (rng.random(n) * lengths).astype(np.int64)]
    two = rng.random(n) < TWO_CHARACTER_GIVEN_NAME_SHARE
    codes = np.zeros((n, 3), dtype=np.uint32)
    codes[:, 0] = surnames
    codes[:, 1] = first
    codes[:, 2] = np.where(two, second, 0)
    return codes.view("<U3").ravel()
