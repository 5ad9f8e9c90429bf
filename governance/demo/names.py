"""Word pools for demo data: surnames, given names by generation, place-name stems, roads.

Everything here is data, not user interface text: the demo county is Chinese, so are its
names. No entry contains a tab, a newline or a backslash (the PostgreSQL COPY path writes
values unescaped).
"""

# Surname frequencies (per mille, rounded) after the 2020 census: the first ten carry ~40%.
SURNAMES = (
    ("王", 71), ("李", 70), ("张", 66), ("刘", 54), ("陈", 46), ("杨", 31), ("黄", 24), ("赵", 23),
    ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13), ("胡", 13), ("郭", 12),
    ("何", 12), ("林", 11), ("高", 11), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7),
    ("唐", 7), ("许", 6), ("韩", 6), ("邓", 6), ("冯", 6), ("曹", 5), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 4), ("潘", 4), ("袁", 4), ("蔡", 4), ("蒋", 4), ("余", 4),
    ("于", 4), ("杜", 4), ("叶", 4), ("程", 3), ("魏", 3), ("苏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("卢", 3), ("姚", 3), ("沈", 3), ("钟", 3), ("姜", 3), ("崔", 3), ("谭", 3),
    ("陆", 3), ("范", 2), ("汪", 2), ("廖", 2), ("石", 2), ("金", 2), ("韦", 2), ("贾", 2),
    ("夏", 2), ("付", 2), ("方", 2), ("邹", 2), ("熊", 2), ("白", 2), ("孟", 2), ("秦", 2),
    ("邱", 2), ("侯", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2),
    ("龙", 1), ("黎", 1), ("史", 1), ("陶", 1), ("贺", 1), ("毛", 1), ("郝", 1), ("顾", 1),
    ("龚", 1), ("邵", 1), ("万", 1), ("武", 1), ("钱", 1), ("戴", 1), ("严", 1), ("孔", 1),
    ("向", 1), ("常", 1), ("汤", 1), ("康", 1), ("易", 1), ("乔", 1), ("赖", 1), ("文", 1),
)

# Given names follow fashions: (first characters, second characters) by generation and sex.
# A one-character given name is taken from the second pool.
GIVEN_NAMES = {
    # born before 1965
    ("old", "M"): ("建国德永志长文玉学卫金世正光福富贵树朝振", "国华明林生福山军东强清发才堂荣海祥富全成"),
    ("old", "F"): ("秀桂玉凤淑兰翠素春金月银美英", "英兰珍芳花梅华芬琴莲香娥凤云蓉霞"),
    # born 1965-1989
    ("mid", "M"): ("建志国海晓明红永德文学俊家振长春立云金小", "军华平明东强刚伟林涛波峰辉成斌忠良勇生荣"),
    ("mid", "F"): ("丽晓红春秀海雪玉美桂艳金小淑", "娟燕梅霞华英芳兰萍玲琴红丽莉敏"),
    # born 1990 or later
    ("new", "M"): ("子浩宇俊梓皓泽思一博明天嘉家睿鑫文雨", "轩然航杰豪宇辰阳鸣博文远涵泽铭昊恒凯睿瑞"),
    ("new", "F"): ("欣子梓诗雨思佳可语一紫雅婉若梦心依静", "怡涵琪萱妍悦瑶婷彤诺然冉菲雯欣宁佳曦"),
}
SINGLE_CHAR_SHARE = {"old": 0.15, "mid": 0.3, "new": 0.2}

# Township (乡镇) stems: first and second characters, combined; plus names of subdistricts (街道).
TOWNSHIP_FIRST = "永安宁德新金龙凤青白石马黄红清长太平兴和云花桃柳松双三大小东西南北乐锦麻茨巴热"
TOWNSHIP_SECOND = "兴安乐和平丰河山溪坝桥坪川阳泉源岭洞庄营关铺场水林郎所跃栗达沙"
SUBDISTRICT_STEMS = (
    "城关", "城东", "城西", "城南", "城北", "东城", "西城", "南城", "北城", "新城", "河东", "河西",
    "滨河", "朝阳", "文昌", "建设", "人民", "解放", "迎宾", "光明", "和平", "东关", "西关", "南关",
    "北关", "钟楼", "鼓楼", "站前", "新华", "胜利",
)

# Village (村) stems: two characters, or a two-character word plus a landform.
VILLAGE_FIRST = "大小新老上下中东西南北前后马石黄白红青金银龙凤桃李杨柳松竹梨花清水高长双三五王张刘陈河沙铁茶"
VILLAGE_SECOND = "河坝沟湾坪庄营堡寨桥田山岭岩洞塘溪湖林场口坡垭梁峪园铺关屯店滩塆箐"
VILLAGE_WORDS = (
    "红星", "胜利", "团结", "和平", "光明", "红旗", "联合", "先锋", "前进", "幸福", "民主", "东风",
    "建设", "长春", "双河", "三合", "五星", "太平", "凤凰", "金鸡", "青龙", "白马", "石板", "黄桷",
    "大水", "板桥", "万家", "李家", "王家", "张家", "杨家", "刘家", "陈家", "周家", "何家", "罗家",
    "新华", "永安", "兴隆", "复兴",
)
VILLAGE_LANDFORMS = "沟坝湾坪营堡桥山岭河庄寨岩屯铺垭田塘"

# Community (社区) stems.
COMMUNITY_WORDS = (
    "东街", "西街", "南街", "北街", "东门", "西门", "南门", "北门", "新城", "滨河", "迎宾", "春晓",
    "朝阳", "文昌", "锦绣", "和平", "建设", "新华", "育才", "花园", "康乐", "幸福", "龙泉", "凤凰",
    "清水", "太平", "安居", "宁远", "兴隆", "团结", "河畔", "桥头", "车站", "学府", "金桥", "银河",
    "长虹", "紫荆", "桂花", "梧桐", "玉带", "凤鸣", "龙腾", "广场", "东湖", "西湖", "南湖", "北湖",
)
COMMUNITY_FIRST = "东西南北新春朝文锦和育康兴龙凤金银长紫桂玉华民安福瑞"
COMMUNITY_SECOND = "城河宾晓阳昌绣平才园乐泉苑湖桥光江华康景馨安盛兴和"

# Housing estates (小区) and work-unit compounds (单位大院) that urban micro-grids follow.
ESTATES = (
    "锦绣花园", "滨河小区", "幸福家园", "阳光新城", "龙泉小区", "凤凰苑", "金桥花园", "翠苑",
    "银河小区", "怡景苑", "书香门第", "世纪花园", "和谐家园", "御景湾", "香榭丽都", "江南水岸",
    "城市花园", "紫荆苑", "桂花园", "康居小区", "安居苑", "馨园", "学府名都", "东方丽景",
)
WORK_UNIT_COMPOUNDS = (
    "电力小区", "教师新村", "粮站家属院", "供销社家属院", "医院家属院", "水电小区", "农行家属院",
    "邮电小区", "财政局家属院", "林业局家属院", "交通局家属院", "税务小区", "法院家属院", "公安小区",
)
ROADS = (
    "人民路", "建设路", "解放路", "胜利街", "新华路", "民主路", "文化路", "中山路", "长征路", "团结路",
    "和平路", "光明路", "朝阳路", "迎宾大道", "滨河路", "东风路", "环城路", "府前街", "学府路", "育才路",
    "健康路", "跃进路", "兴业路", "工业路", "站前路", "新村路", "河滨路", "公园路", "南环路", "北环路",
)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1 ≤ n ≤ 99)."""
    if not 1 <= n <= 99:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


def township_stems() -> list[str]:
    return [a + b for a in TOWNSHIP_FIRST for b in TOWNSHIP_SECOND if a != b]


def village_stems() -> list[str]:
    stems = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND if a != b]
    stems += [w + f for w in VILLAGE_WORDS for f in VILLAGE_LANDFORMS]
    stems += list(VILLAGE_WORDS)
    return list(dict.fromkeys(stems))


def community_stems() -> list[str]:
    stems = list(COMMUNITY_WORDS) + [a + b for a in COMMUNITY_FIRST for b in COMMUNITY_SECOND if a != b]
    return list(dict.fromkeys(stems))
