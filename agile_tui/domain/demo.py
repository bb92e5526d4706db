"""The demo room: a sales team mid-sprint, built entirely from ops (so it exercises the reducer)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from .ops import Op

MEMBERS = [
    ("m-jordan", "Jordan Blake", "Manager"),
    ("m-wang", "王芳", "AE"),
    ("m-lucas", "Lucas García", "AE"),
    ("m-sam", "Sam Okafor", "SDR"),
    ("m-priya", "Priya Nair", "SDR"),
    ("m-ana", "Ana Souza 🚀", "Solutions"),
]

METRICS = [
    # id, name, unit, target, direction, scope, summary, typical value, spread
    ("listen-share", "Listen share", "%", 70, "higher", "member", "mean", 64, 8),
    ("open-questions", "Open questions per call", "", 6, "higher", "member", "mean", 5.2, 1.5),
    ("mql-sql", "MQL→SQL conversion", "%", 30, "higher", "team", "mean", 27, 5),
    ("lead-response", "Lead response time", "min", 5, "lower", "team", "mean", 7, 3),
    ("cycle-length", "Sales cycle length", "days", 45, "lower", "team", "last", 52, 4),
    ("deal-size", "Average deal size", "€", 18000, "higher", "team", "mean", 16500, 2500),
    ("quota", "Quota attainment", "%", 100, "higher", "team", "last", 78, 6),
]

SPRINT_ITEMS = [
    # title, owner, estimate, kind, status, done day offset (from sprint start), note
    ("Book demo with Nordea innovation team", "m-wang", "5", "deal", "done", 2, ""),
    ("Follow up on 12 inbound fintech MQLs", "m-sam", "3", "task", "done", 3, ""),
    ("Rewrite cold email sequence v3", "m-priya", "2", "task", "done", 5, ""),
    ("Battle card vs. CheapCRM pricing", "m-ana", "3", "milestone", "done", 6, ""),
    ("Discovery call: Klarna partnerships", "m-lucas", "5", "deal", "doing", None, ""),
    ("Qualify 20 SaaS leads from the webinar", "m-sam", "5", "task", "doing", None, ""),
    ("Proposal for Spotify Ads — €48k", "m-wang", "8", "deal", "blocked", None,
     "Waiting for legal to approve the DPA"),
    ("LinkedIn outreach: 50 CFOs in Stockholm", "m-priya", "3", "task", "todo", None, ""),
    ("Security questionnaire for Zalando", "m-ana", "5", "task", "blocked", None, "Needs SOC 2 report from IT"),
    ("Pipeline review with finance", "m-jordan", "1", "milestone", "todo", None, ""),
    ("谈判：上海客户续约 renewal", "m-wang", "3", "deal", "todo", None, ""),
]

BACKLOG_ITEMS = [
    ("Case study: Vinted onboarding win", "m-ana", "3", "task"),
    ("Referral programme for existing customers", "m-jordan", "8", "milestone"),
    ("Enterprise pricing page refresh", "", "5", "task"),
    ("Event: SaaStr Europa booth follow-ups", "m-priya", "?", "task"),
    ("Upsell analytics add-on to Bolt", "m-lucas", "", "deal"),
    ("Clean up stale opportunities in CRM", "m-sam", "2", "task"),
]

STANDUP_LINES = {
    "m-jordan": ("pipeline review prep", "1:1s with the AEs", ""),
    "m-wang": ("Nordea demo and recap email", "Spotify proposal redlines", "legal on the DPA"),
    "m-lucas": ("Klarna discovery prep", "Klarna discovery call", ""),
    "m-sam": ("called 14 inbound MQLs", "webinar lead qualification", ""),
    "m-priya": ("email sequence v3 draft", "LinkedIn CFO outreach", ""),
    "m-ana": ("battle card vs CheapCRM", "Zalando security questionnaire", "SOC 2 report from IT"),
}


def default_metrics() -> list[dict]:
    """The sales metrics of RITUALS.md, as metric.define arguments: every new room starts with them (they can
    be edited or removed like any other)."""
    return [{"id": mid, "name": name, "unit": unit, "target": target, "direction": direction, "scope": scope,
             "summary": summary} for mid, name, unit, target, direction, scope, summary, _typical, _spread in METRICS]


def demo_ops(today: date, actor: str = "seed") -> list[Op]:
    """Every op that builds the demo room, in order, each stamped with the day it happened."""
    rng = random.Random(7)
    ops: list[Op] = []
    counter = iter(range(1, 1_000_000))

    def op(day: date, type: str, **args) -> None:
        ts = datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(seconds=next(counter))
        ops.append(Op(type=type, args=args, actor=actor, op_id=f"demo-{len(ops):05d}", ts=ts.isoformat()))

    sprint1_start = today - timedelta(days=23)
    sprint2_start = today - timedelta(days=9)
    op(sprint1_start, "room.setup", name="demo", team="Nordic Sales Pod")
    for member_id, name, role in MEMBERS:
        op(sprint1_start, "member.add", id=member_id, name=name, role=role)
    for mid, name, unit, target, direction, scope, summary, *_ in METRICS:
        op(sprint1_start, "metric.define", id=mid, name=name, unit=unit, target=target, direction=direction,
           scope=scope, summary=summary)

    # Sprint 1: closed, with a retro whose actions became items of sprint 2.
    op(sprint1_start, "sprint.create", id="sprint-1", name="Sprint 1", start=sprint1_start.isoformat(), days=14,
       goal="Rebuild the fintech pipeline to 30 qualified opportunities.", capacity=36)
    op(sprint1_start, "sprint.start", id="sprint-1")
    for n, (title, owner, est) in enumerate([("Map 40 fintech target accounts", "m-sam", "3"),
                                              ("Win back two churned customers", "m-lucas", "8"),
                                              ("Demo script for payments buyers", "m-ana", "2")]):
        op(sprint1_start, "item.add", id=f"s1-item-{n}", title=title, owner=owner, estimate=est,
           sprint_id="sprint-1")
        op(sprint1_start + timedelta(days=3 + n * 4), "item.update", id=f"s1-item-{n}", status="done")
    op(sprint2_start - timedelta(days=1), "sprint.create", id="sprint-2", name="Sprint 2",
       start=sprint2_start.isoformat(), days=14,
       goal="Book 12 qualified demos with Nordic fintech accounts.", capacity=40)
    op(sprint2_start - timedelta(days=1), "sprint.close", id="sprint-1", carry={})
    retro_day = sprint2_start - timedelta(days=1)

    def retro(type: str, **args) -> None:
        op(retro_day, type, retro_id="retro-1", **args)

    op(retro_day, "retro.create", id="retro-1", sprint_id="sprint-1", template="went-well")
    for n, (author, column, text) in enumerate([
        ("m-sam", "Went well", "Target account map kept calls focused"),
        ("m-ana", "Went well", "Pairing AEs with solutions on demos"),
        ("m-priya", "To improve", "Leads waited hours for a first reply"),
        ("m-jordan", "To improve", "CRM stages were out of date before reviews"),
        ("m-sam", "Try next", "Response-time rota for inbound leads"),
    ]):
        retro("retro.card", id=f"card-{n}", column=column, text=text, member_id=author)
    # Grouped, voted (each member's five dots, cast by the facilitator as they were called out), discussed.
    retro("retro.phase", action="next", at=300, force=True)
    retro("retro.group", topic_id="topic-leads", card_ids=["card-2", "card-4"], title="Slow first reply to leads")
    retro("retro.phase", action="next", at=600, force=True)
    for member_id, votes in (("m-sam", {"topic-leads": 3, "card-3": 2}), ("m-jordan", {"card-3": 3, "topic-leads": 2}),
                             ("m-wang", {"topic-leads": 2, "card-0": 1, "card-1": 2}),
                             ("m-lucas", {"card-1": 3, "topic-leads": 2}),
                             ("m-priya", {"topic-leads": 3, "card-3": 1, "card-0": 1}),
                             ("m-ana", {"card-1": 2, "card-3": 2, "topic-leads": 1})):
        retro("retro.vote", member_id=member_id, votes=votes)
    retro("retro.reveal")
    retro("retro.phase", action="next", at=800, force=True)
    retro("retro.timer", action="start", at=800)
    retro("retro.note", topic_id="topic-leads", text="Inbound leads sit for hours while the SDRs are on calls.")
    retro("retro.action", id="action-1", title="Set up an inbound lead response rota", owner="m-sam",
          due=(sprint2_start + timedelta(days=3)).isoformat(), topic_id="topic-leads")
    retro("retro.discuss", action="next", at=1160)
    retro("retro.note", topic_id="card-3", text="Reviews start with ten minutes of fixing stages.")
    retro("retro.action", id="action-2", title="Update CRM stages every Friday", owner="m-jordan",
          due=(sprint2_start + timedelta(days=4)).isoformat(), topic_id="card-3")
    retro("retro.phase", action="next", at=1450)
    op(retro_day, "retro.close", id="retro-1")

    # Sprint 2: active, mid-way.
    op(sprint2_start, "sprint.start", id="sprint-2")
    op(sprint2_start, "sprint.focus", id="sprint-2", metric_ids=["listen-share", "open-questions", "mql-sql"])
    for n, (title, owner, est, kind, status, done_day, note) in enumerate(SPRINT_ITEMS):
        op(sprint2_start, "item.add", id=f"item-{n:02d}", title=title, owner=owner, estimate=est, kind=kind,
           sprint_id="sprint-2", value=48000 if "€48k" in title else None)
        if status == "done":
            op(sprint2_start + timedelta(days=done_day), "item.update", id=f"item-{n:02d}", status="done")
        elif status == "doing":
            op(sprint2_start + timedelta(days=1), "item.update", id=f"item-{n:02d}", status="doing")
        elif status == "blocked":
            op(sprint2_start + timedelta(days=2), "item.update", id=f"item-{n:02d}", status="blocked", note=note)
    op(sprint2_start + timedelta(days=4), "item.update", id="retro-1-action-1", status="done")
    for n, (title, owner, est, kind) in enumerate(BACKLOG_ITEMS):
        op(sprint2_start, "item.add", id=f"backlog-{n:02d}", title=title, owner=owner, estimate=est, kind=kind)

    # Ten days of standups; blockers open along the way, some resolved.
    blockers = {
        3: ("b-dpa", "m-wang", "Legal has not approved the Spotify DPA", "item-06", "m-jordan", None),
        4: ("b-soc2", "m-ana", "SOC 2 report needed from IT", "item-08", "m-jordan", None),
        2: ("b-crm", "m-sam", "CRM import fails for webinar leads", "item-05", "m-ana", 5),
    }
    for back in range(10, 0, -1):
        day = today - timedelta(days=back)
        index = 10 - back
        if index in blockers:
            bid, member, text, item, helper, resolve_after = blockers[index]
            op(day, "blocker.open", id=bid, member_id=member, text=text, item_id=item, helper_id=helper,
               opened_on=day.isoformat())
        for bid, _member, _text, _item, _helper, resolve_after in blockers.values():
            if resolve_after is not None and index == resolve_after:
                op(day, "blocker.resolve", id=bid)
        order = [m[0] for m in MEMBERS]
        rng.shuffle(order)
        updates = []
        for member_id in order:
            yesterday, today_text, blocker_text = STANDUP_LINES[member_id]
            absent = rng.random() < 0.08
            box = 150.0
            updates.append({"member_id": member_id, "yesterday": "" if absent else yesterday,
                            "today": "" if absent else today_text, "blockers": "" if absent else blocker_text,
                            "airtime_s": 0.0 if absent else round(rng.uniform(70, 190), 1), "box_s": box,
                            "absent": absent})
        op(day, "standup.record", id=f"standup-{day.isoformat()}", date=day.isoformat(), sprint_id=(
            "sprint-2" if day >= sprint2_start else "sprint-1"), facilitator_id=MEMBERS[index % 6][0],
           length_min=15, updates=updates,
           parking=["Pricing exceptions for multi-year deals"] if index == 7 else [])

    # Four weeks of metric samples.
    for back in range(28, 0, -1):
        day = today - timedelta(days=back)
        trend = (28 - back) / 28
        for mid, _name, unit, target, _direction, scope, _summary, typical, spread in METRICS:
            drift = (target - typical) * trend * 0.6
            members = [m[0] for m in MEMBERS if m[2] != "Manager"] if scope == "member" else [None]
            for member_id in members:
                value = typical + drift + rng.uniform(-spread, spread)
                if unit == "%":
                    value = min(100.0, max(0.0, value))
                value = round(max(0.0, value), 1)
                op(day, "metric.sample", id=f"sample-{mid}-{member_id or 'team'}-{day.isoformat()}",
                   metric_id=mid, date=day.isoformat(), value=value,
                   **({"member_id": member_id} if member_id else {}))
    return ops
