"""How a team behaves: the normal profile and the six planted failures.

Each planted failure changes only the levers that its NDA dimension measures, strongly
enough that the team lands in the worst quartile for that dimension (docs/simulator.md
lists the measures the test suite checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIMENSIONS = (
    "actor_autonomy",
    "partitioned_knowledge",
    "emergent_outputs",
    "temporal_misalignment",
    "integration_cost",
    "coupling_degradation",
)

# Channel kinds: one channel per team, one general channel per university guild, and three
# program channels in the consortium guild.
TEAM, GENERAL, HELP, INTEGRATION, ANNOUNCEMENTS = (
    "team",
    "general",
    "help",
    "integration",
    "announcements",
)
CHANNEL_KINDS = (TEAM, GENERAL, HELP, INTEGRATION, ANNOUNCEMENTS)


@dataclass(frozen=True)
class Shares:
    """Where a person's messages go, as fractions that sum to 1."""

    team: float
    general: float
    help: float
    integration: float
    announcements: float

    def of(self, kind: str) -> float:
        return float(getattr(self, kind))


STUDENT_SHARES = Shares(team=0.70, general=0.14, help=0.08, integration=0.06, announcements=0.02)
FACULTY_SHARES = Shares(team=0.40, general=0.25, help=0.08, integration=0.12, announcements=0.15)
DIRECTOR_SHARES = Shares(team=0.0, general=0.45, help=0.10, integration=0.20, announcements=0.25)
EXTERNAL_SHARES = Shares(team=0.0, general=0.0, help=0.50, integration=0.40, announcements=0.10)
RESEARCHER_SHARES = Shares(team=0.0, general=0.30, help=0.0, integration=0.30, announcements=0.40)


@dataclass(frozen=True)
class TeamBehaviour:
    dimension: str | None = None
    why: str = ""
    student_shares: Shares = STUDENT_SHARES
    adviser_shares: Shares = FACULTY_SHARES
    # Multipliers on who answers questions in the team's own channel.
    chat_rate: float = 1.0  # multiplier on the members' weekly message rate
    student_answer: float = 1.0
    faculty_answer: float = 1.0
    visitor_answer: float = 1.0
    outgoing_answer: float = 1.0
    non_outgoing_answer: float = 1.0
    visitors: bool = True  # people of other teams drop into the team channel
    links: bool = True  # documentation links, pins and docs in handoff notes
    bot: bool = True  # the repository is connected to the team channel
    # Activity in the last simulated week as a share of the first: 1.0 is steady. The
    # per-week factor follows from the run's length, so short runs show the decay too.
    decay_to: float = 1.0
    unanswered: float = 0.07  # share of team-channel questions nobody answers
    late_answers: float = 0.0  # share of answered questions answered days later
    handoff_days: tuple[int, int] | None = (21, 3)  # before graduation: (earliest, latest)
    scope_churn: float = 0.0  # weight of "are we still doing X?" episodes
    coordination: float = 0.04  # weight of cross-team coordination episodes
    # Project-tool levers.
    cross_team_dependencies: float = 0.3
    completion: float = 0.7
    churn: float = 0.05
    unowned: float = 0.03
    missed_due: float = 0.1
    task_handoff: bool = True
    tags: tuple[str, ...] = field(default=())


NORMAL = TeamBehaviour()


def weekly_decay(behaviour: TeamBehaviour | None, weeks: int) -> float:
    """The factor by which activity shrinks each week."""
    if behaviour is None or behaviour.decay_to >= 1.0 or weeks < 2:
        return 1.0
    return float(behaviour.decay_to ** (1 / (weeks - 1)))


PLANTED: dict[str, TeamBehaviour] = {
    "actor_autonomy": TeamBehaviour(
        dimension="actor_autonomy",
        why="a new cohort that asks in #help and #general and waits for faculty and other "
        "teams: few of its questions are answered inside the team",
        student_shares=Shares(
            team=0.30, general=0.22, help=0.38, integration=0.08, announcements=0.02
        ),
        student_answer=0.06,
        faculty_answer=5.0,
        visitor_answer=10.0,
    ),
    "partitioned_knowledge": TeamBehaviour(
        dimension="partitioned_knowledge",
        why="talks only in its own channel: never in program or general channels, no "
        "visitors, no documentation links (E-I index -1)",
        student_shares=Shares(team=1.0, general=0.0, help=0.0, integration=0.0, announcements=0.0),
        adviser_shares=Shares(team=1.0, general=0.0, help=0.0, integration=0.0, announcements=0.0),
        visitors=False,
        links=False,
        bot=False,
        coordination=0.0,
        cross_team_dependencies=0.0,
    ),
    "emergent_outputs": TeamBehaviour(
        dimension="emergent_outputs",
        why="task churn: most tasks reopened, sent back to the backlog or reassigned, many "
        "without an owner; chat keeps asking what the scope is",
        scope_churn=0.22,
        churn=0.85,
        unowned=0.35,
        completion=0.45,
    ),
    "temporal_misalignment": TeamBehaviour(
        dimension="temporal_misalignment",
        why="questions answered days later or never, handoffs crammed into the last days "
        "before graduation, most due dates missed",
        unanswered=0.40,
        late_answers=0.85,
        handoff_days=(5, 0),
        missed_due=0.8,
    ),
    "integration_cost": TeamBehaviour(
        dimension="integration_cost",
        why="most tasks depend on other teams' tasks, few of them get done, and the team "
        "spends a large share of its messages coordinating in #integration",
        student_shares=Shares(
            team=0.35, general=0.08, help=0.08, integration=0.47, announcements=0.02
        ),
        chat_rate=1.5,
        coordination=0.30,
        cross_team_dependencies=0.85,
        completion=0.04,
    ),
    "coupling_degradation": TeamBehaviour(
        dimension="coupling_degradation",
        why="activity and ties decay week after week; outgoing students give the answers "
        "and graduate without a handoff note or task reassignment",
        decay_to=0.1,
        outgoing_answer=4.0,
        non_outgoing_answer=0.25,
        handoff_days=None,
        task_handoff=False,
    ),
}
