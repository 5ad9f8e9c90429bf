"""Demo double report (双报到): each agency registers with the community it sits in (some also with a
paired village), with its lists; most in-service members register where they live and claim posts."""

import datetime
from bisect import bisect
from collections import defaultdict

from governance.demo.hooks import DemoContext
from governance.demo.people import PeopleFactory
from governance.models import Level
from partybuild.demo.common import POST_CUM, POSTS, Member, county_of, day_text, village_of
from partybuild.models import MemberRegistration, OfferKind, PostClaim, RegistrationStatus, UnitOffer, UnitRegistration

REGISTERED_SHARE = 0.88  # of in-service members: an active registration
ENDED_ONLY_SHARE = 0.03  # of in-service members: only an ended registration (moved away)
RE_REGISTERED_SHARE = 0.06  # of the registered: an older, ended registration too
AREA_CODES = {"5134": "0834", "1405": "0356"}  # landline prefixes by province+city code

OFFERS = {
    OfferKind.RESOURCE: (
        "会议室一间", "党员志愿服务队一支", "法律咨询服务", "健康义诊", "政策宣讲", "图书捐赠", "公务车辆应急保障",
        "实用技术培训", "就业岗位信息", "文体活动场地", "防汛救灾物资", "电脑及办公设备",
    ),
    OfferKind.NEED: (
        "老旧小区路灯维修", "独居老人定期探访", "留守儿童课后辅导", "垃圾分类宣传", "背街小巷环境整治",
        "社区活动经费", "楼道消防器材更新", "困难家庭就业帮扶", "社区卫生服务站设备",
    ),
    OfferKind.PROJECT: (
        "共建文明小区", "四点半课堂", "义诊进社区", "法律进社区", "绿化认养", "平安巡逻", "爱心超市",
        "邻里互助站", "农产品产销对接", "老年食堂",
    ),
}



def _person_name(rand) -> str:
    return PeopleFactory._surname(rand) + PeopleFactory._given(rand, 1975, "M" if rand() < 0.6 else "F")


def write_unit_registrations(ctx: DemoContext, agencies: list, today: int) -> None:
    rng = ctx.rng("partybuild", "unit-registrations")
    rand = rng.random
    villages = defaultdict(list)
    for unit in ctx.units(Level.VILLAGE):
        villages[county_of(unit).code].append(unit)
    first_reg, first_offer = ctx.next_id(UnitRegistration), ctx.next_id(UnitOffer)
    registrations, offers = [], []
    for org, county in agencies:
        area = AREA_CODES.get(county.code[:4], "0834")
        targets = [org.unit]
        if rand() < 0.3:  # also paired with a village (结对共建)
            paired = villages[county.code][int(rand() * len(villages[county.code]))]
            if paired is not org.unit:
                targets.append(paired)
        for community in targets:
            reg_id = first_reg + len(registrations)
            registered = today - 20 - int(rand() * 2200)
            registrations.append(
                (reg_id, org.work_unit, org.name, community.pk, day_text(registered), _person_name(rand),
                 f"{area}-{2_000_000 + int(rand() * 7_999_999)}", RegistrationStatus.ACTIVE)
            )
            for kind, (lo, hi) in ((OfferKind.RESOURCE, (1, 3)), (OfferKind.NEED, (1, 2)), (OfferKind.PROJECT, (0, 2))):
                pool = OFFERS[kind]
                for description in rng.sample(pool, lo + int(rand() * (hi - lo + 1))):
                    offers.append((first_offer + len(offers), reg_id, kind, description))
    ctx.write(
        UnitRegistration,
        ("id", "unit_name", "party_organization", "community_id", "registered_on", "contact_name", "contact_phone",
         "status"),
        registrations,
    )
    ctx.write(UnitOffer, ("id", "registration_id", "kind", "description"), offers)


def _pick_posts(rand, count: int) -> tuple:
    posts = []
    while len(posts) < count:
        post = POSTS[bisect(POST_CUM, rand() * POST_CUM[-1])]
        if post not in posts:
            posts.append(post)
    return tuple(posts)


def write_member_registrations(ctx: DemoContext, members: list[Member], today: int) -> None:
    """Most in-service members registered with the community they live in, with claimed posts."""
    rng = ctx.rng("partybuild", "member-registrations")
    rand = rng.random
    first_reg, first_claim = ctx.next_id(MemberRegistration), ctx.next_id(PostClaim)
    registrations, claims = [], []
    # The double report is seven years old in the demo (2018 for a demo of 2025).
    earliest = datetime.date(ctx.as_of.year - 7, 1, 1).toordinal()

    def add(m, community, registered, status, ended, posts):
        reg_id = first_reg + len(registrations)
        registrations.append(
            (reg_id, m.pk, community.pk, day_text(registered), status, day_text(ended) if ended else None)
        )
        for post in posts:
            claimed = min(registered + int(rand() * 20), ended or today)
            claims.append((first_claim + len(claims), reg_id, post, day_text(claimed)))

    for m in members:
        if not m.in_service:
            continue
        home = village_of(m.leaf)
        start = max(m.joined_on + 30, earliest)
        draw = rand()
        if start > today - 60:
            continue  # joined too recently to have registered
        if draw < REGISTERED_SHARE:
            registered = start + int(rand() * (today - 7 - start))
            if rand() < RE_REGISTERED_SHARE and registered - start > 400:
                # An older registration, ended when he moved (or re-registered the same community).
                siblings = home.parent.children
                before = siblings[int(rand() * len(siblings))]
                old = start + int(rand() * (registered - start - 300))
                ended = old + 90 + int(rand() * (registered - old - 120))
                add(m, before, old, RegistrationStatus.ENDED, ended, _pick_posts(rand, 1))
            m.claims = _pick_posts(rand, 1 + int(rand() * rand() * 3))
            add(m, home, registered, RegistrationStatus.ACTIVE, None, m.claims)
            m.volunteer_in = home
            m.volunteer_from = max(registered, today - 364)
        elif draw < REGISTERED_SHARE + ENDED_ONLY_SHARE and start < today - 130:
            registered = start + int(rand() * (today - 100 - start))
            ended = registered + 30 + int(rand() * (today - 30 - registered - 30))
            add(m, home, registered, RegistrationStatus.ENDED, ended, _pick_posts(rand, 1))
    ctx.write(
        MemberRegistration, ("id", "member_id", "community_id", "registered_on", "status", "ended_on"), registrations
    )
    ctx.write(PostClaim, ("id", "registration_id", "post", "claimed_on"), claims)
