"""The case taxonomy every county starts with (editable in the admin), and the deadlines by colour."""

TAXONOMY = [
    ("dispute", "矛盾纠纷", [
        ("dispute-neighbour", "邻里纠纷"), ("dispute-family", "婚姻家庭纠纷"), ("dispute-land", "土地山林纠纷"),
        ("dispute-wages", "劳资纠纷"), ("dispute-property", "物业纠纷"), ("dispute-other", "其他纠纷"),
    ]),
    ("hazard", "安全隐患", [
        ("hazard-building", "房屋安全"), ("hazard-traffic", "道路交通"), ("hazard-geology", "地质灾害"),
        ("hazard-power-gas", "用电用气"), ("hazard-other", "其他安全隐患"),
    ]),
    ("sanitation", "环境卫生", [
        ("sanitation-garbage", "垃圾堆放"), ("sanitation-sewage", "污水排放"), ("sanitation-street", "占道经营"),
        ("sanitation-noise", "噪音扰民"), ("sanitation-other", "其他环境问题"),
    ]),
    ("livelihood", "民生诉求", [
        ("livelihood-assistance", "社会救助"), ("livelihood-employment", "就业创业"),
        ("livelihood-health", "医疗卫生"), ("livelihood-education", "教育"), ("livelihood-elderly", "养老服务"),
        ("livelihood-utilities", "供水供电"), ("livelihood-other", "其他民生诉求"),
    ]),
    ("public-order", "社会治安", [
        ("public-order-risk", "治安隐患"), ("public-order-fraud", "电信网络诈骗"),
        ("public-order-other", "其他治安问题"),
    ]),
    ("fire", "消防安全", [
        ("fire-lane", "消防通道堵塞"), ("fire-equipment", "消防设施损坏"), ("fire-ebike", "电动车违规充电"),
        ("fire-other", "其他消防隐患"),
    ]),
    ("illegal-building", "违法建设", [
        ("illegal-building-structure", "违章建筑"), ("illegal-building-land", "违规占地"),
    ]),
    ("policy", "政策咨询", [
        ("policy-insurance", "社保医保"), ("policy-farming", "惠农政策"), ("policy-registration", "户籍证照"),
        ("policy-other", "其他政策咨询"),
    ]),
    ("other", "其他", []),
]
DEADLINES = {"red": 24, "yellow": 72, "green": 168}


def seed_taxonomy(CaseCategory, ColourDeadline) -> None:  # noqa: N803 - model classes, real or historical
    """Create what is missing (idempotent): the migration passes its historical models, tests the real ones."""
    for order, (code, name, children) in enumerate(TAXONOMY, start=1):
        parent, _created = CaseCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        for child_order, (child_code, child_name) in enumerate(children, start=1):
            CaseCategory.objects.get_or_create(
                code=child_code, defaults={"name": child_name, "parent": parent, "sort_order": child_order}
            )
    for colour, hours in DEADLINES.items():
        ColourDeadline.objects.get_or_create(colour=colour, defaults={"hours": hours})
