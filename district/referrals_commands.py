"""`classlog district referral decide ID ...`: an administrator records the office's decision on
an office referral (R10), against the server's database like the other district commands. The
decision reaches the referring device on its next pull.

Imported by `classlog` at start-up, so only the standard library is imported at module level.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    referral = commands.add_parser(
        "referral",
        help="office referrals: record the office's decision",
        description="Office referrals come from staff devices by sync. The office's decision "
        "(level 3-5, days of Out-of-School Suspension, alternatives to suspension offered) is "
        "recorded here and flows back to the referring device.",
    )
    referral_commands = referral.add_subparsers(
        dest="referral_command", metavar="COMMAND", required=True
    )
    decide = referral_commands.add_parser(
        "decide",
        help="record the office's decision on a referral",
        description="Record the office's decision. The plan's rules are checked: the level must "
        "be one the grid allows for the behavior (3-5), and the days of OSS must fit it "
        "(Level 3: 1-3, Level 4: 3-5, Level 5: 5), or be 0 with an alternative offered.",
    )
    decide.add_argument("referral", metavar="ID", help="the referral's id")
    decide.add_argument(
        "--level", type=int, required=True, metavar="N", help="the level the office used (3-5)"
    )
    decide.add_argument(
        "--oss-days", type=float, default=0.0, metavar="D", help="days of OSS (default 0)"
    )
    decide.add_argument(
        "--alternative",
        action="append",
        default=[],
        metavar="TEXT",
        help="an alternative to suspension offered (repeat for several)",
    )
    decide.add_argument("--db", metavar="URL", default=None, help="the district's database URL")
    decide.set_defaults(handler=decide_command)


def decide_command(args: argparse.Namespace) -> int:
    from district.clock import ServerClock
    from district.commands import _open
    from district.referrals import Decision, decide_referral

    engine = _open(args)
    try:
        record = decide_referral(
            engine,
            None,
            args.referral,
            Decision(args.level, args.oss_days, tuple(args.alternative)),
            ServerClock("district-command"),
        )
    finally:
        engine.dispose()
    from schema.models import decision_words

    words = decision_words(
        record.fields.get("decided_level"),
        record.fields.get("oss_days"),
        record.fields.get("alternatives"),
    )
    print(f"referral {record.id}: {words}")
    return 0
