"""The simulated consortium: universities, projects, teams, people, terms and channels.

Everything is drawn from one random stream in a fixed order, so the organisation depends
only on the seed and the number of universities (and the start date, for terms and ages).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from core.simulate.behaviour import (
    ANNOUNCEMENTS,
    DIMENSIONS,
    GENERAL,
    HELP,
    INTEGRATION,
    NORMAL,
    PLANTED,
    TEAM,
    TeamBehaviour,
)
from core.simulate.calendar import (
    Term,
    current_term,
    epoch_ms,
    regular_terms_after,
    terms_for,
)
from core.simulate.config import SimulationConfig
from core.simulate.content import SUBSYSTEMS
from core.simulate.names import FACULTY_TITLES, FIRST_NAMES, LAST_NAMES, ascii_fold, slug
from core.simulate.snowflakes import snowflake

PROGRAM_ID = "proves"
PROGRAM_NAME = "PROVES CubeSat Consortium"
KIT_PROJECT_ID = "proves-kit"
KIT_PROJECT_NAME = "PROVES Kit (shared flight kit)"
CONSORTIUM_GUILD = "PROVES Consortium"


@dataclass(frozen=True)
class UniversitySeed:
    id: str
    name: str
    time_zone: str
    consent_mode: str
    email_domain: str
    guild_name: str
    calendar: str  # semester | quarter
    tracker: str  # github | jira
    org: str  # GitHub organisation, or the Jira site's short name
    mission: str


CATALOGUE = (
    UniversitySeed(
        "cpp",
        "California State Polytechnic University, Pomona",
        "America/Los_Angeles",
        "opt-in",
        "cpp.edu",
        "Bronco Space Lab",
        "semester",
        "github",
        "broncospace",
        "BroncoSat-3",
    ),
    UniversitySeed(
        "uci",
        "University of California, Irvine",
        "America/Los_Angeles",
        "opt-out",
        "uci.edu",
        "Anteater CubeSat",
        "quarter",
        "github",
        "uci-cubesat",
        "AntSat-1",
    ),
    UniversitySeed(
        "tamu",
        "Texas A&M University",
        "America/Chicago",
        "metadata-only",
        "tamu.edu",
        "Aggie Space Systems",
        "semester",
        "jira",
        "aggiesat",
        "AggieSat-7",
    ),
    UniversitySeed(
        "uh",
        "University of Hawaiʻi at Mānoa",
        "Pacific/Honolulu",
        "opt-in",
        "hawaii.edu",
        "Hawaii Space Flight Lab",
        "semester",
        "github",
        "hsfl-cubesat",
        "Hōkūlele-2",
    ),
    UniversitySeed(
        "cub",
        "University of Colorado Boulder",
        "America/Denver",
        "opt-in",
        "colorado.edu",
        "Buff Sat Lab",
        "semester",
        "github",
        "cu-smallsat",
        "RALPHIE-2",
    ),
    UniversitySeed(
        "gt",
        "Georgia Institute of Technology",
        "America/New_York",
        "opt-out",
        "gatech.edu",
        "Yellow Jacket Space",
        "semester",
        "jira",
        "gtspace",
        "GT-Prox-2",
    ),
    UniversitySeed(
        "uaf",
        "University of Alaska Fairbanks",
        "America/Anchorage",
        "opt-in",
        "alaska.edu",
        "Alaska CubeSat Lab",
        "semester",
        "github",
        "uaf-cubesat",
        "AuroraSat-1",
    ),
    UniversitySeed(
        "uprm",
        "Universidad de Puerto Rico, Mayagüez",
        "America/Puerto_Rico",
        "opt-in",
        "upr.edu",
        "Colegio Space Lab",
        "semester",
        "github",
        "uprm-space",
        "ColibríSat-1",
    ),
)

# Universities beyond the eight: generated, clearly fictional names.
_EXTRA_PLACES = (
    ("Lakeshore", "lksu"),
    ("Cascadia", "casu"),
    ("High Plains", "hpsu"),
    ("Bayou", "bysu"),
    ("Piedmont", "pdsu"),
    ("Great Basin", "gbsu"),
    ("Ozark", "ozsu"),
    ("Tidewater", "twsu"),
    ("Northwoods", "nwsu"),
    ("Red River", "rrsu"),
    ("Sierra", "sisu"),
    ("Gulf Coast", "gcsu"),
    ("Blue Ridge", "brsu"),
    ("Prairie", "prsu"),
    ("Columbia Basin", "cbsu"),
    ("Catskill", "cksu"),
    ("Sonoran", "snsu"),
    ("Driftless", "dlsu"),
)
_EXTRA_ZONES = (
    "America/Chicago",
    "America/New_York",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Detroit",
)

SUBSYSTEM_ORDER = (
    "integration",
    "adcs",
    "eps",
    "comms",
    "structures",
    "thermal",
    "fsw",
    "payload",
    "ground",
)


@dataclass(frozen=True)
class University:
    index: int
    seed: UniversitySeed
    project_id: str
    project_name: str
    guild_id: int
    terms: tuple[Term, ...]
    current_term: int  # index into terms

    @property
    def id(self) -> str:
        return self.seed.id


@dataclass(frozen=True)
class Team:
    index: int
    id: str
    name: str
    university_id: str
    project_id: str
    project_name: str
    subsystem: str
    discipline: str
    behaviour: TeamBehaviour


@dataclass
class Actor:
    """Anyone who posts on Discord: a person from the roster or a bot."""

    index: int
    user_id: int
    username: str
    nickname: str
    first_name: str
    is_bot: bool
    color: str | None
    avatar_hash: str
    university_id: str | None  # None for the consortium bot
    # Roster fields; bots leave them empty.
    person_id: str = ""
    role: str = "bot"
    team_id: str = ""
    email: str = ""
    discipline: str = ""
    graduation_term: str = ""
    joined_on: dt.date | None = None
    github_login: str = ""
    consent: str = ""
    lifecycle: str = ""  # incoming | established | outgoing | "" (staff)
    director: bool = False
    active_from: dt.date | None = None
    active_until: dt.date | None = None  # the graduation term's last day, inside the window


@dataclass(frozen=True)
class Channel:
    index: int
    id: int
    guild_id: int
    guild_name: str
    category_id: int
    category: str
    name: str
    topic: str
    kind: str
    university_id: str | None  # None for the consortium guild's channels
    team_id: str | None
    time_zone: str


@dataclass(frozen=True)
class Handoff:
    from_actor: int
    to_actor: int
    team_id: str
    day: dt.date
    thing: str


@dataclass
class Organisation:
    config: SimulationConfig
    universities: list[University]
    teams: list[Team]
    actors: list[Actor]  # people first (roster order), then bots
    people_count: int
    channels: list[Channel]
    planted: dict[str, str]  # team id -> dimension, in DIMENSIONS order
    handoffs: list[Handoff]
    bots: dict[str, int] = field(default_factory=dict)  # guild key -> actor index

    @property
    def people(self) -> list[Actor]:
        return self.actors[: self.people_count]

    def university(self, university_id: str) -> University:
        return next(u for u in self.universities if u.id == university_id)

    def team(self, team_id: str) -> Team:
        return self.teams_by_id[team_id]

    @property
    def teams_by_id(self) -> dict[str, Team]:
        return {team.id: team for team in self.teams}


def _university_seeds(count: int) -> list[UniversitySeed]:
    seeds = list(CATALOGUE[:count])
    for index in range(max(0, count - len(CATALOGUE))):
        place, short = _EXTRA_PLACES[index]
        zone = _EXTRA_ZONES[index % len(_EXTRA_ZONES)]
        mode = "opt-out" if index % 5 == 4 else "opt-in"
        seeds.append(
            UniversitySeed(
                short,
                f"{place} State University",
                zone,
                mode,
                f"{short}.edu",
                f"{place} Space Lab",
                "semester",
                "jira" if index % 4 == 3 else "github",
                f"{short}-space",
                f"{place.split()[0]}Sat-1",
            )
        )
    return seeds


class _Builder:
    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = random.Random(f"{config.seed}:organisation")
        self.used_names: set[str] = set()
        self.used_handles: set[str] = set()
        self.used_emails: set[str] = set()
        self.used_logins: set[str] = set()
        # Ids are minted before the window opens, so they never meet message ids.
        self.id_epoch = epoch_ms(config.start) - 400 * 86_400_000

    def build(self) -> Organisation:
        config = self.config
        seeds = _university_seeds(config.universities)
        universities = [self._university(index, seed) for index, seed in enumerate(seeds)]
        subsystems = self._pick_subsystems(len(universities))
        planted = self._plant(universities, subsystems)
        teams: list[Team] = []
        for university, chosen in zip(universities, subsystems, strict=True):
            for subsystem in chosen:
                team_id = f"{university.id}-{subsystem}"
                teams.append(self._team(len(teams), university, subsystem, planted.get(team_id)))
        actors: list[Actor] = []
        for university in universities:
            actors += self._people(
                university, [t for t in teams if t.university_id == university.id], len(actors)
            )
        people_count = len(actors)
        bots = self._bots(universities, actors)
        channels = self._channels(universities, teams)
        handoffs = self._handoffs(universities, teams, actors)
        ordered = {team_id: planted[team_id] for team_id in planted}
        return Organisation(
            config, universities, teams, actors, people_count, channels, ordered, handoffs, bots
        )

    # -- universities and teams ---------------------------------------------------------

    def _university(self, index: int, seed: UniversitySeed) -> University:
        start = self.config.start
        terms = terms_for(seed.id, seed.calendar, start.year - 3, start.year + 5)
        mission_slug = slug(seed.mission.replace("-", " ")) or seed.id
        mission_id = f"{seed.id}-{mission_slug}"
        guild_ms = self.id_epoch - self.rng.randint(400, 1400) * 86_400_000
        return University(
            index=index,
            seed=seed,
            project_id=mission_id,
            project_name=f"{seed.mission} CubeSat mission",
            guild_id=snowflake(guild_ms, (1 << 20) | index),
            terms=tuple(terms),
            current_term=current_term(terms, start),
        )

    def _pick_subsystems(self, universities: int) -> list[list[str]]:
        chosen: list[list[str]] = []
        for index in range(universities):
            # A lone university still needs six teams: one per planted failure.
            count = 6 if universities == 1 else self.rng.randint(3, 6)
            picked = sorted(self.rng.sample(SUBSYSTEM_ORDER, count), key=SUBSYSTEM_ORDER.index)
            if index == 0:
                # The lead university also builds the shared kit everyone flies.
                picked = [*picked[:5], "kit"] if count == 6 else [*picked, "kit"]
            chosen.append(picked)
        return chosen

    def _plant(self, universities: list[University], subsystems: list[list[str]]) -> dict[str, str]:
        """One team per dimension, spread over universities where possible; not the kit."""
        candidates = [
            f"{u.id}-{s}"
            for u, chosen in zip(universities, subsystems, strict=True)
            for s in chosen
            if s != "kit"
        ]
        if len(candidates) < len(DIMENSIONS):
            candidates.append(f"{universities[0].id}-kit")
        self.rng.shuffle(candidates)
        picked: list[str] = []
        seen_universities: set[str] = set()
        for team_id in candidates:
            university_id = team_id.split("-")[0]
            if university_id not in seen_universities:
                picked.append(team_id)
                seen_universities.add(university_id)
        picked += [team_id for team_id in candidates if team_id not in picked]
        return dict(zip(picked[: len(DIMENSIONS)], DIMENSIONS, strict=False))

    def _team(
        self, index: int, university: University, subsystem: str, dimension: str | None
    ) -> Team:
        spec = SUBSYSTEMS[subsystem]
        is_kit = subsystem == "kit"
        return Team(
            index=index,
            id=f"{university.id}-{subsystem}",
            name=f"{university.id.upper()} {spec.label}",
            university_id=university.id,
            project_id=KIT_PROJECT_ID if is_kit else university.project_id,
            project_name=KIT_PROJECT_NAME if is_kit else university.project_name,
            subsystem=subsystem,
            discipline=spec.discipline,
            behaviour=PLANTED[dimension] if dimension else NORMAL,
        )

    # -- people -------------------------------------------------------------------------

    def _name(self) -> tuple[str, str]:
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if f"{first} {last}" not in self.used_names:
                self.used_names.add(f"{first} {last}")
                return first, last

    def _unique(self, candidate: str, used: set[str]) -> str:
        value, n = candidate, 1
        while value in used:
            n += 1
            value = f"{candidate}{n}"
        used.add(value)
        return value

    def _actor_base(
        self, index: int, first: str, last: str, university: University | None, display: str
    ) -> Actor:
        a_first, a_last = ascii_fold(first).lower(), ascii_fold(last).lower().replace(" ", "")
        style = self.rng.randrange(4)
        handle = (
            f"{a_first}.{a_last}",
            f"{a_first}{a_last[:1]}",
            f"{a_first}_{a_last}",
            f"{a_first}{a_last}{self.rng.randint(1, 99)}",
        )[style]
        created = self.id_epoch - self.rng.randint(30, 3600) * 86_400_000
        return Actor(
            index=index,
            user_id=snowflake(created, index),
            username=self._unique(handle, self.used_handles),
            nickname=display,
            first_name=first,
            is_bot=False,
            color=None,
            avatar_hash=f"{self.rng.getrandbits(128):032x}",
            university_id=university.id if university else None,
        )

    def _email(self, first: str, last: str, domain: str) -> str:
        local = f"{ascii_fold(first)}.{ascii_fold(last).replace(' ', '')}".lower()
        return self._unique(local, self.used_emails) + f"@{domain}"

    def _login(self, first: str, last: str) -> str:
        a_first, a_last = ascii_fold(first).lower(), ascii_fold(last).lower().replace(" ", "")
        style = self.rng.randrange(3)
        login = (f"{a_first}-{a_last}", f"{a_first}{a_last}", f"{a_first[:1]}{a_last}")[style]
        return self._unique(login, self.used_logins)

    def _consent(self) -> str:
        draw = self.rng.random()
        return "granted" if draw < 0.88 else ("withdrawn" if draw < 0.94 else "")

    def _people(self, university: University, teams: list[Team], first_index: int) -> list[Actor]:
        rng, start = self.rng, self.config.start
        terms = list(university.terms)
        current = terms[university.current_term]
        later = regular_terms_after(terms, university.current_term)
        nxt = later[0]
        established_terms = [t for t in later[1:] if t.starts_on <= start + dt.timedelta(days=980)]
        incoming_terms = [t for t in later if t.ends_on >= start + dt.timedelta(days=3 * 365)][:2]
        people: list[Actor] = []

        def add(first: str, last: str, display: str, **fields: object) -> Actor:
            actor = self._actor_base(first_index + len(people), first, last, university, display)
            for key, value in fields.items():
                setattr(actor, key, value)
            people.append(actor)
            return actor

        # Faculty: one adviser for every two teams (advising the first of the pair), and
        # a program director without a team at the lead university.
        advisers = max(1, (len(teams) + 1) // 2)
        for number in range(advisers + (1 if university.index == 0 else 0)):
            first, last = self._name()
            director = number == advisers
            team = None if director else teams[min(2 * number, len(teams) - 1)]
            add(
                first,
                last,
                f"{rng.choice(FACULTY_TITLES)} {first} {last}",
                person_id=f"{university.id}-f{number + 1:02d}",
                role="faculty",
                team_id=team.id if team else "",
                email=self._email(first, last, university.seed.email_domain),
                discipline=team.discipline if team else "aerospace engineering",
                joined_on=None
                if rng.random() < 0.5
                else start - dt.timedelta(days=rng.randint(900, 4000)),
                github_login=self._login(first, last) if rng.random() < 0.5 else "",
                consent=self._consent(),
                color="#E67E22",
                director=director,
                active_from=start,
            )

        student_number = 0
        for team in teams:
            behaviour = team.behaviour
            size = rng.randint(4, 8)
            if behaviour.dimension == "actor_autonomy":
                lifecycles = ["incoming"] * (size - 1) + ["established"]
            else:
                outgoing = max(1, round(size * 0.3))
                if behaviour.dimension in ("coupling_degradation", "temporal_misalignment"):
                    outgoing = max(3, round(size * 0.45))
                incoming = max(1, round(size * 0.25))
                lifecycles = (
                    ["outgoing"] * outgoing
                    + ["incoming"] * incoming
                    + ["established"] * max(0, size - outgoing - incoming)
                )
            for position, lifecycle in enumerate(lifecycles):
                student_number += 1
                first, last = self._name()
                if lifecycle == "outgoing":
                    # The first outgoing student of a team, and all of a team that fails
                    # at handoffs, graduate at the end of the simulated term.
                    graduating_now = (
                        position == 0
                        or behaviour.dimension in ("coupling_degradation", "temporal_misalignment")
                        or rng.random() < 0.6
                    )
                    term = current if graduating_now else nxt
                    joined = start - dt.timedelta(days=rng.randint(700, 1300))
                    joined_on = None if rng.random() < 0.15 else joined
                elif lifecycle == "incoming":
                    term = rng.choice(incoming_terms)
                    joined_on = start + dt.timedelta(days=rng.randint(-10, 14))
                else:
                    term = rng.choice(established_terms)
                    joined = start - dt.timedelta(days=rng.randint(200, 800))
                    joined_on = None if rng.random() < 0.1 else joined
                until = term.ends_on if term.ends_on < self.config.end else None
                discipline = (
                    team.discipline
                    if rng.random() < 0.8
                    else rng.choice([s.discipline for s in SUBSYSTEMS.values()])
                )
                add(
                    first,
                    last,
                    f"{first} {last}",
                    person_id=f"{university.id}-s{student_number:03d}",
                    role="student",
                    team_id=team.id,
                    email=self._email(first, last, university.seed.email_domain),
                    discipline=discipline,
                    graduation_term=term.name,
                    joined_on=joined_on,
                    github_login=self._login(first, last) if rng.random() < 0.87 else "",
                    consent=self._consent(),
                    lifecycle=lifecycle,
                    active_from=max(start, joined_on) if joined_on else start,
                    active_until=until,
                )

        if university.index == 0:
            for number, (role, domain, title) in enumerate(
                (
                    ("external", "nasa.gov", ""),
                    ("researcher", university.seed.email_domain, "Dr. "),
                    ("external", "ssdl-partners.com", ""),
                )
            ):
                first, last = self._name()
                prefix = "x" if role == "external" else "r"
                add(
                    first,
                    last,
                    f"{title}{first} {last}",
                    person_id=f"{university.id}-{prefix}{number + 1:02d}",
                    role=role,
                    email=self._email(first, last, domain),
                    discipline="research" if role == "researcher" else "systems engineering",
                    joined_on=start - dt.timedelta(days=rng.randint(30, 400)),
                    github_login=self._login(first, last) if rng.random() < 0.3 else "",
                    consent="granted",
                    color="#9B59B6",
                    active_from=start,
                )
        return people

    def _bots(self, universities: list[University], actors: list[Actor]) -> dict[str, int]:
        bots: dict[str, int] = {}
        specs = [
            (u.id, "Jira Cloud" if u.seed.tracker == "jira" else "GitHub", u.id)
            for u in universities
        ] + [("consortium", "PROVES CI", None)]
        for key, name, university_id in specs:
            index = len(actors)
            created = self.id_epoch - self.rng.randint(100, 900) * 86_400_000
            actors.append(
                Actor(
                    index=index,
                    user_id=snowflake(created, index),
                    username=name,
                    nickname=name,
                    first_name=name,
                    is_bot=True,
                    color=None,
                    avatar_hash=f"{self.rng.getrandbits(128):032x}",
                    university_id=university_id,
                )
            )
            bots[key] = index
        return bots

    # -- channels and handoffs ----------------------------------------------------------

    def _channels(self, universities: list[University], teams: list[Team]) -> list[Channel]:
        channels: list[Channel] = []

        def add(
            guild_id: int,
            guild_name: str,
            category: str,
            name: str,
            topic: str,
            kind: str,
            university_id: str | None,
            team_id: str | None,
            zone: str,
        ) -> None:
            index = len(channels)
            created = self.id_epoch - self.rng.randint(1, 300) * 86_400_000
            category_id = snowflake(created - 1000, (1 << 19) | index)
            channels.append(
                Channel(
                    index,
                    snowflake(created, (1 << 18) | index),
                    guild_id,
                    guild_name,
                    category_id,
                    category,
                    name,
                    topic,
                    kind,
                    university_id,
                    team_id,
                    zone,
                )
            )

        for university in universities:
            seed = university.seed
            add(
                university.guild_id,
                seed.guild_name,
                "Lab",
                "general",
                f"Everything {seed.guild_name}: lab hours, announcements, questions",
                GENERAL,
                seed.id,
                None,
                seed.time_zone,
            )
            for team in teams:
                if team.university_id == seed.id:
                    spec = SUBSYSTEMS[team.subsystem]
                    add(
                        university.guild_id,
                        seed.guild_name,
                        "Subsystems",
                        spec.channel,
                        spec.topic,
                        TEAM,
                        seed.id,
                        team.id,
                        seed.time_zone,
                    )
        guild_ms = self.id_epoch - 1500 * 86_400_000
        guild_id = snowflake(guild_ms, (1 << 20) | 0xFFFF)
        for name, kind, topic in (
            ("announcements", ANNOUNCEMENTS, "Consortium news from the PROVES leads"),
            ("integration", INTEGRATION, "Interfaces, ICDs and integration milestones"),
            ("help", HELP, "Ask anything; someone at another university has hit it before"),
        ):
            add(
                guild_id,
                CONSORTIUM_GUILD,
                "Program",
                name,
                topic,
                kind,
                None,
                None,
                "America/Chicago",
            )
        return channels

    def _handoffs(
        self, universities: list[University], teams: list[Team], actors: list[Actor]
    ) -> list[Handoff]:
        handoffs: list[Handoff] = []
        start, end = self.config.start, self.config.end
        for team in teams:
            window = team.behaviour.handoff_days
            members = [a for a in actors if a.team_id == team.id and a.role == "student"]
            leaving = [a for a in members if a.lifecycle == "outgoing" and a.active_until]
            staying = [a for a in members if a.lifecycle != "outgoing"]
            if window is None or not staying:
                continue
            staying.sort(key=lambda a: (a.lifecycle != "incoming", a.index))
            for number, person in enumerate(leaving):
                assert person.active_until is not None
                earliest, latest = window
                day = person.active_until - dt.timedelta(days=self.rng.randint(latest, earliest))
                day = min(max(day, start), end - dt.timedelta(days=1))
                target = staying[number % len(staying)]
                thing = self.rng.choice(SUBSYSTEMS[team.subsystem].artefacts)
                handoffs.append(Handoff(person.index, target.index, team.id, day, thing))
        handoffs.sort(key=lambda h: (h.day, h.from_actor))
        return handoffs


def build_organisation(config: SimulationConfig) -> Organisation:
    return _Builder(config).build()
