"""Synthetic, deterministic names for the demo city.

Nothing here names a real private person: people appear only as a common
surname with 先生/女士, officials by their post. Company, shop, compound and
road names are composed from word lists; any likeness to a real business is
coincidence. The few real names come from the newspaper articles the domain
brief is drawn from and are not persons (a market, a compound, a village
collective); the administrative divisions come from the NBS data file.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

# Town centres (WGS-84), from the brief's shared/data/yongkang-areas.md, section 3.
# Values are approximate (±1 km); 东城 and 江南 are estimates.
TOWN_CENTRES: dict[str, tuple[str, str]] = {
    "330784": ("28.8914", "120.0430"),
    "330784001000": ("28.9105", "120.0512"),
    "330784002000": ("28.8996", "120.0146"),
    "330784003000": ("28.8837", "120.0163"),
    "330784105000": ("28.8476", "120.0921"),
    "330784106000": ("28.8036", "120.0879"),
    "330784107000": ("28.8067", "120.1773"),
    "330784108000": ("28.9702", "120.1430"),
    "330784109000": ("28.9558", "120.1625"),
    "330784110000": ("29.0251", "120.1861"),
    "330784111000": ("29.0035", "120.2358"),
    "330784112000": ("28.9788", "120.0786"),
    "330784113000": ("29.0327", "120.1168"),
    "330784114000": ("28.9226", "119.9686"),
    "330784115000": ("28.9326", "120.1332"),
}

# Pinyin of the town stems, for readable usernames (demo-town-dongcheng).
TOWN_PINYIN: dict[str, str] = {
    "330784001000": "dongcheng",
    "330784002000": "xicheng",
    "330784003000": "jiangnan",
    "330784105000": "shizhu",
    "330784106000": "qiancang",
    "330784107000": "zhoushan",
    "330784108000": "gushan",
    "330784109000": "fangyan",
    "330784110000": "longshan",
    "330784111000": "xixi",
    "330784112000": "xiangzhu",
    "330784113000": "tangxian",
    "330784114000": "huajie",
    "330784115000": "zhiying",
}

# Synthetic street names per subdistrict; towns use "<town>大街" and friends.
URBAN_ROADS: dict[str, list[str]] = {
    "330784001000": ["金城路", "九铃东路", "紫微北路", "望春东路", "胜利街", "解放街",
                     "溪心路", "华丰东路"],
    "330784002000": ["城西路", "丽州北路", "总部中心路", "华溪路", "西津路", "长城路"],
    "330784003000": ["江南路", "南苑路", "江滨路", "金胜路", "丽丰路", "南都路"],
}
TOWN_ROAD_SUFFIXES = ["大街", "中路", "工业路", "新街", "东路", "西路"]

SURNAMES = [
    "胡", "应", "陈", "吕", "李", "徐", "王", "程", "朱", "周", "楼", "俞", "金", "黄",
    "吴", "郑", "林", "潘", "卢", "叶", "何", "丁", "孙", "赵", "童", "蒋", "方", "颜",
    "倪", "夏", "钱", "陶", "胡", "应", "陈", "李", "徐", "王",
]

SHOP_TYPES = [
    "五金店", "便利店", "小吃店", "理发店", "电动车维修店", "水果店", "烟酒店", "服装店",
    "面馆", "药店", "手机店", "早餐店", "建材店", "小超市", "茶叶店", "眼镜店", "快递驿站",
    "洗衣店", "汽修店", "餐馆", "五金工具店", "门业门市部", "杯壶门市部", "文具店",
    "母婴店", "棋牌室", "花店", "粮油店",
]

WORKSHOP_PRODUCTS = [
    "五金配件", "门业配件", "保温杯抛光", "电动工具配件", "滑板车组装", "不锈钢制品",
    "铝合金门窗", "塑料制品", "模具", "炊具", "电机绕线", "锁具", "衡器配件", "童车配件",
]
WORKSHOP_SUFFIXES = ["加工点", "加工作坊", "家庭工场", "加工厂"]

COMPANY_CHARS = list("恒达金鼎瑞丰华锐盛凯越博源昌隆宏泰永嘉兴荣润欣诚信正德富康安力群豪铭宇")
INDUSTRIES = [
    "工贸", "五金制品", "门业", "杯业", "电器", "工具", "机械", "车业", "炊具", "不锈钢制品",
    "电机", "休闲用品", "金属制品", "塑业",
]

PLEASANT = [
    "金都", "锦绣", "阳光", "翠湖", "丽景", "华庭", "紫金", "东方", "南湖", "溪岸", "香樟",
    "春晓", "怡和", "康乐", "悦江", "永安", "丽州", "桂花", "翠苑", "玉兰", "星海", "明珠",
    "银杏", "清溪", "金桥", "和泰", "新城", "江岸", "龙湾", "凤凰",
]
COMPOUND_SUFFIXES = ["花园", "家园", "景苑", "小区", "新村", "公寓", "雅苑", "名苑", "华庭", "府"]
HOTEL_TYPES = ["宾馆", "商务酒店", "快捷酒店", "大酒店", "旅馆", "客栈", "酒店"]
MARKET_TYPES = [
    "农贸市场", "五金机电市场", "小商品市场", "建材市场", "门业市场", "杯壶市场",
    "电动工具市场", "车业配件市场", "钢材市场", "水果批发市场",
]
PROPERTY_COMPANIES = [f"永康市{stem}物业管理有限公司" for stem in PLEASANT[:24]]

# Where on the premises a finding was made: appended to some descriptions.
LOCATIONS = [
    "一楼楼梯间", "二楼走道", "三楼公共走廊", "底层车库", "后门通道", "仓库", "厨房",
    "302室", "顶楼平台", "门厅", "配电箱处", "楼道转角",
]

VOID_REASONS = [
    "重复登记：与同一场所另一条隐患记录重复",
    "场所已关停拆除，隐患随之灭失",
    "录入错误：检查项选择有误，已重新登记",
]
DISMISS_REASONS = [
    "经现场核实，不构成火灾隐患",
    "自查上报内容与实际不符，已现场说明",
    "已在上报前自行整改完毕，经核实不再存在",
]
FAIL_REASONS = [
    "整改照片显示仍未到位，现场复查隐患依然存在",
    "灭火器仍为过期产品，需重新更换",
    "电线仍未穿管保护，需按要求整改",
    "疏散通道仍有杂物堆放",
]
LOOK_BACK_FAIL_REASONS = [
    "回头看发现电动自行车又在楼道内充电",
    "回头看发现疏散通道再次堆放杂物",
    "回头看发现私拉电线问题反弹",
]
EXTENSION_REASONS = [
    "需采购并安装设施，施工队排期在下周",
    "涉及房屋结构改造，需要办理相关手续",
    "承租户暂未搬离，需协调后整改",
    "设备到货周期较长，申请延期",
]
ENFORCEMENT_RESULTS = [
    "已立案处罚，罚款人民币贰仟元，责令限期改正",
    "已依法临时查封相关部位，责令限期改正",
    "已下达责令改正通知书，当事人承诺限期整改",
]
HAND_OVER_REASONS = [
    "逾期未整改，经督促仍未落实，移交依法处理",
    "拒不整改，移交执法部门处理",
]
EXTENSION_REFUSALS = ["理由不充分，请按原期限整改", "隐患风险较高，不予延期"]
# What citizens write when they report (随手拍): plain words, no checklist codes.
CITIZEN_REPORTS = [
    "楼道里停了好几辆电动车，晚上有人拉线充电",
    "店门口堆满纸箱，把消防通道堵住了",
    "出租房楼梯间堆放杂物，一楼的安全出口还上了锁",
    "小区的消防栓箱门坏了，里面的水带不见了",
    "隔壁厂房里住了人，晚上还在加工",
    "市场里的灭火器压力表指针在红区",
    "电线乱拉乱接，插座有烧焦的痕迹",
    "宾馆走廊的疏散指示灯不亮",
    "出租房窗户全装了防盗窗，没有逃生口",
]
REPORT_DISMISSALS = [
    "经现场核查，所反映的问题已不存在",
    "经现场核查，该处不属于火灾隐患，已向反映人说明",
]
REPORT_REQUIREMENT = "按照反映的问题立即整改，消除火灾隐患。"

EXPERTS = ["消防救援大队 王工", "应急管理局 陈工", "住建局 李工", "市场监管局 周工",
           "综合执法局 吴工", "指挥部 徐工"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(("先生", "女士"))


def phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(0, 10**8 - 1):08d}"


def stem_of(short_name: str) -> str:
    """白塔村 → 白塔, 园丁社区 → 园丁, 芝英一村 → 芝英一."""
    for suffix in ("社区", "村"):
        if short_name.endswith(suffix) and len(short_name) > len(suffix) + 1:
            return short_name[: -len(suffix)]
    return short_name


def town_roads(town_code: str, town_name: str) -> list[str]:
    if town_code in URBAN_ROADS:
        return URBAN_ROADS[town_code]
    stem = town_name[:-1] if town_name.endswith("镇") else town_name
    return [stem + suffix for suffix in TOWN_ROAD_SUFFIXES]


class UniqueNames:
    """Draws names from a generator function until one is new (deterministic)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, make, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
        for attempt in range(50):
            name = make(rng) if attempt < 40 else f"{make(rng)}{attempt - 38}号"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted")

    def reserve(self, name: str) -> str:
        self.used.add(name)
        return name


def company_name(rng: random.Random) -> str:
    prefix = "浙江" if rng.random() < 0.15 else "永康市"
    a, b = rng.sample(COMPANY_CHARS, 2)
    return f"{prefix}{a}{b}{rng.choice(INDUSTRIES)}有限公司"


def compound_name(rng: random.Random) -> str:
    return rng.choice(PLEASANT) + rng.choice(COMPOUND_SUFFIXES)


def hotel_name(rng: random.Random) -> str:
    return rng.choice(PLEASANT) + rng.choice(HOTEL_TYPES)


def jitter(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    """A point uniformly in a disc of ``radius_km`` around (lat, lon)."""
    r = radius_km * (rng.random() ** 0.5)
    angle = rng.random() * 6.283185307179586
    dlat = r * math.cos(angle) / 111.0
    dlon = r * math.sin(angle) / (111.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def coord(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")
