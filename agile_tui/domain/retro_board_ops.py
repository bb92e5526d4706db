"""Handlers of the retro's board: cards (reflect, group), topics (group), votes and their reveal (vote).

A topic or ungrouped card that has votes, has been discussed or has an action item is *in use*: grouping,
ungrouping and deleting refuse to change it, so votes, notes and actions always belong to what people voted on
and talked about."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from . import retro as q
from . import rules
from .errors import InvalidArgs, RuleViolation
from .model import Card, Retro, Topic, Vote
from .ops import Op
from .reducer import handles
from .retro_ops import in_phase, member_or_actor, open_retro
from .tx import Tx

# ----------------------------------------------------------------------------- cards


def _card_text(args: Mapping) -> str:
    return rules.text(args, "text", what="A card", max_len=q.MAX_CARD, required=True).strip()


def _column(args: Mapping, retro: Retro) -> str:
    column = args.get("column")
    if column not in retro.columns:
        raise InvalidArgs(f"{column!r} is not a column of this retro ({', '.join(retro.columns)}).")
    return column


@handles("retro.card")
def retro_card(tx: Tx, args: Mapping, op: Op) -> None:
    """A new card, written by the actor (or by ``member_id``, when the facilitator types for them)."""
    retro = open_retro(tx, args)
    in_phase(retro, q.CARD_PHASES, "Writing cards")
    card_id = rules.ident(args, "id", what="A card")
    if q.card(retro, card_id) is not None or q.topic(retro, card_id) is not None:
        raise RuleViolation(f"This retro already has a card or topic with id {card_id!r}.")
    column = _column(args, retro)
    text = _card_text(args)
    author = member_or_actor(tx, args, op, "The card's author")
    tx.put("retros", dataclasses.replace(retro, cards=(*retro.cards, Card(id=card_id, column=column, text=text,
                                                                           author=author))))


@handles("retro.card_update")
def retro_card_update(tx: Tx, args: Mapping, op: Op) -> None:
    """Change a card's text or column, or remove it (``delete``); a removed card leaves its topic."""
    retro = open_retro(tx, args)
    in_phase(retro, q.CARD_PHASES, "Changing cards")
    card = q.card(retro, args.get("id"))
    if card is None:
        raise RuleViolation(f"This retro has no card {args.get('id')!r}.")
    if args.get("delete"):
        target = q.target_of(retro, card.id)
        if reason := q.in_use(retro, target):
            raise RuleViolation(f"Can't delete that card: {reason}.")
        retro = _without(retro, [card.id])
        tx.put("retros", dataclasses.replace(retro, cards=tuple(c for c in retro.cards if c.id != card.id)))
        return
    changes = {}
    if "text" in args:
        changes["text"] = _card_text(args)
    if "column" in args:
        changes["column"] = _column(args, retro)
    cards = tuple(dataclasses.replace(c, **changes) if c.id == card.id else c for c in retro.cards)
    tx.put("retros", dataclasses.replace(retro, cards=cards))


# ----------------------------------------------------------------------------- topics


def _without(retro: Retro, card_ids: list[str]) -> Retro:
    """Take cards out of their topics; a topic left without cards is gone."""
    leaving = set(card_ids)
    topics = []
    for topic in retro.topics:
        kept = tuple(c for c in topic.card_ids if c not in leaving)
        if kept:
            topics.append(topic if kept == topic.card_ids else dataclasses.replace(topic, card_ids=kept))
    return dataclasses.replace(retro, topics=tuple(topics))


def _ids(args: Mapping, key: str, what: str) -> list[str]:
    value = args.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgs(f"{what} must be a list of ids.")
    return list(dict.fromkeys(value))


def _free(retro: Retro, target_id: str, doing: str) -> None:
    if reason := q.in_use(retro, target_id):
        raise RuleViolation(f"Can't {doing}: {reason}.")


@handles("retro.group")
def retro_group(tx: Tx, args: Mapping, op: Op) -> None:
    """Merge cards (``card_ids``, grouped or not) and whole topics (``topic_ids``) into the topic ``topic_id``:
    an existing topic, or a new one named ``title`` (default: its first card's text)."""
    retro = open_retro(tx, args)
    in_phase(retro, ("group",), "Grouping cards")
    topic_id = rules.ident(args, "topic_id", what="The topic")
    if q.card(retro, topic_id) is not None:
        raise RuleViolation(f"{topic_id!r} is a card's id; give the topic an id of its own.")
    existing = q.topic(retro, topic_id)
    card_ids = _ids(args, "card_ids", "The cards")
    topic_ids = [t for t in _ids(args, "topic_ids", "The topics") if t != topic_id]
    grouped = q.topic_of_card(retro)
    for card_id in card_ids:
        if q.card(retro, card_id) is None:
            raise RuleViolation(f"This retro has no card {card_id!r}.")
        if grouped.get(card_id) != topic_id:
            _free(retro, grouped.get(card_id, card_id), "move that card")
    merged = []
    for other in topic_ids:
        found = q.topic(retro, other)
        if found is None:
            raise RuleViolation(f"This retro has no topic {other!r}.")
        _free(retro, other, "merge that topic")
        merged.extend(found.card_ids)
    moving = [c for c in dict.fromkeys([*card_ids, *merged]) if grouped.get(c) != topic_id]
    if not moving:
        raise RuleViolation("Select the cards or topics to merge into the topic.")
    if existing is not None:
        _free(retro, topic_id, "change that topic")
    title = rules.text(args, "title", what="A topic's name", max_len=q.MAX_TOPIC_TITLE).strip()
    retro = _without(retro, moving)
    if existing is not None:
        topics = tuple(dataclasses.replace(t, card_ids=(*t.card_ids, *moving), title=title or t.title)
                       if t.id == topic_id else t for t in retro.topics)
    else:
        title = title or q.short(q.card(retro, moving[0]).text)
        topics = (*retro.topics, Topic(id=topic_id, title=title, card_ids=tuple(moving)))
    tx.put("retros", dataclasses.replace(retro, topics=topics))


@handles("retro.ungroup")
def retro_ungroup(tx: Tx, args: Mapping, op: Op) -> None:
    """Split a card out of its topic: it becomes a topic of its own again."""
    retro = open_retro(tx, args)
    in_phase(retro, ("group",), "Splitting cards out")
    card_id = rules.ident(args, "card_id", what="The card")
    if q.card(retro, card_id) is None:
        raise RuleViolation(f"This retro has no card {card_id!r}.")
    topic_id = q.topic_of_card(retro).get(card_id)
    if topic_id is None:
        raise RuleViolation("That card is in no topic.")
    _free(retro, topic_id, "split that topic")
    tx.put("retros", _without(retro, [card_id]))


@handles("retro.topic")
def retro_topic(tx: Tx, args: Mapping, op: Op) -> None:
    """Rename a topic."""
    retro = open_retro(tx, args)
    topic = q.topic(retro, args.get("topic_id"))
    if topic is None:
        raise RuleViolation(f"This retro has no topic {args.get('topic_id')!r}.")
    title = rules.text(args, "title", what="A topic's name", max_len=q.MAX_TOPIC_TITLE, required=True).strip()
    topics = tuple(dataclasses.replace(t, title=title) if t.id == topic.id else t for t in retro.topics)
    tx.put("retros", dataclasses.replace(retro, topics=topics))


# ----------------------------------------------------------------------------- votes


def _count(value, cap: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgs("A number of votes must be a whole number.")
    if value < 0:
        raise InvalidArgs("A number of votes can't be negative.")
    if value > cap:
        raise RuleViolation(f"At most {cap} vote{'s' * (cap != 1)} on one topic{where}.")
    return value


@handles("retro.vote")
def retro_vote(tx: Tx, args: Mapping, op: Op) -> None:
    """Set votes, never add them: ``count`` on ``topic_id``, or ``votes`` {topic: count} as the voter's whole
    allocation. The voter is the actor, or ``member_id`` (a facilitator acting as a member)."""
    retro = open_retro(tx, args)
    in_phase(retro, ("vote",), "Voting")
    voter = member_or_actor(tx, args, op, "The voter")
    cap, budget = retro.max_votes_per_topic, retro.votes_per_person
    if "votes" in args:
        raw = args["votes"]
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise InvalidArgs("Votes must map topics to numbers of votes.")
        wanted = {t: _count(n, cap, f" ({q.short(q.target_title(retro, t), 40)!r} has {n})") for t, n in raw.items()}
    else:
        target = rules.ident(args, "topic_id", what="The topic")
        wanted = {**q.votes_of(retro, voter), target: _count(args.get("count"), cap, "")}
    wanted = {t: n for t, n in wanted.items() if n}
    for target in wanted:
        if not q.is_target(retro, target):
            raise RuleViolation(f"This retro has no topic {target!r}.")
    total = sum(wanted.values())
    if total > budget:
        who = "You have" if voter == op.actor else f"{q.name_of(tx.state, voter)} has"
        raise RuleViolation(f"{who} {budget} vote{'s' * (budget != 1)} in all, and that would make {total}: take "
                            "one back from another topic first.")
    others = [v for v in retro.votes if v.member_id != voter]
    mine = [Vote(member_id=voter, topic_id=t, count=n) for t, n in wanted.items()]
    votes = tuple(sorted([*others, *mine], key=lambda v: (v.member_id, v.topic_id)))
    tx.put("retros", dataclasses.replace(retro, votes=votes))


@handles("retro.reveal")
def retro_reveal(tx: Tx, args: Mapping, op: Op) -> None:
    """Show everyone's votes (until then each person sees only their own; the room sees who has finished)."""
    retro = open_retro(tx, args)
    in_phase(retro, ("vote",), "Revealing the votes")
    if retro.revealed:
        raise RuleViolation("The votes are already revealed.")
    tx.put("retros", dataclasses.replace(retro, revealed=True))
