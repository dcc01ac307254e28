"""Static checks of the deployment files: docker-compose.yml, Dockerfile, .env.example.

No Docker engine runs where the tests run, so these parse the files and check the
properties we rely on: services and their order of start, health checks, ports bound
to loopback, secrets only by interpolation, and an image that runs as non-root with
the migrations where the app looks for them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
INITDB_DIR = ROOT / "docker" / "initdb"

FRAMES_SERVICES = ("migrate", "bot", "panel")
EXPECTED_SERVICES = {"db", *FRAMES_SERVICES, "mlflow"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEY")

# ${VAR}, ${VAR:?message} or ${VAR?message}: a value that must come from the
# environment. Defaults (${VAR:-x}) are not allowed for secrets: a default is a
# literal secret.
REQUIRED_INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")
# The variable named by each interpolation ($${...} is an escaped literal).
INTERPOLATED_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
# A whole interpolation, hidden while URLs are parsed.
ANY_INTERPOLATION = re.compile(r"(?<!\$)\$\{[^}]*\}")
URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://(?P<user>[^:/@\s]+):(?P<password>[^@/\s]+)@")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose.get("services")
    assert isinstance(services, dict) and services, "no services in docker-compose.yml"
    return services


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of compose's two forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def all_strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string (keys included) in a parsed YAML tree, with where it sits."""
    found: list[tuple[str, str]] = []
    if isinstance(node, str):
        found.append((path, node))
    elif isinstance(node, dict):
        for key, value in node.items():
            found.append((f"{path}/<key>", str(key)))
            found.extend(all_strings(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(all_strings(value, f"{path}[{index}]"))
    return found


def url_passwords(text: str) -> list[str]:
    """The password part of every URL with credentials in text, interpolations kept whole."""
    # ${VAR:-default} holds a colon of its own: hide interpolations while parsing.
    hidden: list[str] = []

    def hide(match: re.Match[str]) -> str:
        hidden.append(match.group(0))
        return f"\0{len(hidden) - 1}\0"

    def restore(part: str) -> str:
        return re.sub(r"\0(\d+)\0", lambda m: hidden[int(m.group(1))], part)

    masked = ANY_INTERPOLATION.sub(hide, text)
    return [restore(match.group("password")) for match in URL_CREDENTIALS.finditer(masked)]


def healthcheck_text(service: dict[str, Any]) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "health check is disabled"
    test = check.get("test")
    assert test, "health check has no test"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"health check test starts with {test[0]!r}"
        return " ".join(str(part) for part in test[1:])
    return str(test)


def host_ip_of(port: Any) -> str | None:
    """The host address a published port binds to, or None when it binds to all."""
    if isinstance(port, dict):  # long syntax
        return port.get("host_ip")
    text = str(port).split("/", 1)[0]
    if text.startswith("["):  # [::1]:8080:8080
        return text[1 : text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None


# --------------------------------------------------------------------------- compose


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = EXPECTED_SERVICES - services.keys()
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_db_is_pgvector_postgres_with_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    db = services["db"]
    assert db["image"].startswith("pgvector/pgvector:pg"), db["image"]
    major = int(re.search(r":pg(\d+)", db["image"]).group(1))
    assert major >= 15, "FRAMES needs PostgreSQL 15+"
    env = environment_of(db)
    assert {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"} <= env.keys()
    data_mounts = [
        str(volume).split(":", 1)[0]
        for volume in db.get("volumes", [])
        if ":/var/lib/postgresql" in str(volume)
    ]
    assert data_mounts, "PostgreSQL data is not on a volume"
    assert data_mounts[0] in (compose.get("volumes") or {}), "data volume is not a named volume"


@pytest.mark.parametrize(
    ("name", "must_contain"),
    [
        ("db", ("pg_isready",)),
        ("panel", ("http://127.0.0.1:8080/healthz",)),
        ("mlflow", ("http://127.0.0.1:5000/health",)),
    ],
)
def test_health_checks(
    services: dict[str, dict[str, Any]], name: str, must_contain: tuple[str, ...]
) -> None:
    text = healthcheck_text(services[name])
    for needle in must_contain:
        assert needle in text, f"{name} health check {text!r} lacks {needle!r}"


def test_panel_health_check_needs_no_curl(services: dict[str, dict[str, Any]]) -> None:
    # python:3.11-slim has no curl; the check must use the interpreter that is there.
    text = healthcheck_text(services["panel"])
    assert text.startswith("python"), text
    assert "urllib" in text


def test_every_published_port_binds_to_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            published += 1
            assert host_ip_of(port) == "127.0.0.1", f"{name} publishes {port!r} beyond loopback"
    assert published, "no ports published at all"


@pytest.mark.parametrize(
    ("name", "port"),
    [
        ("db", "127.0.0.1:5432:5432"),
        ("panel", "127.0.0.1:8080:8080"),
        ("mlflow", "127.0.0.1:5000:5000"),
    ],
)
def test_expected_ports(services: dict[str, dict[str, Any]], name: str, port: str) -> None:
    assert port in [str(p) for p in services[name].get("ports", [])]


@pytest.mark.parametrize(
    ("name", "dependency", "condition"),
    [
        ("migrate", "db", "service_healthy"),
        ("bot", "migrate", "service_completed_successfully"),
        ("panel", "migrate", "service_completed_successfully"),
        ("mlflow", "db", "service_healthy"),
    ],
)
def test_depends_on_conditions(
    services: dict[str, dict[str, Any]], name: str, dependency: str, condition: str
) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form"
    assert depends_on.get(dependency, {}).get("condition") == condition


def test_dependencies_exist_and_long_running_services_wait_for_migrations(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        # anything that talks to FRAMES tables must start after `db upgrade`
        if "DATABASE_URL" in environment_of(service) and name != "migrate":
            condition = service["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name


def test_frames_commands(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"].get("restart") in (None, "no"), "migrate must run once"
    assert services["bot"]["command"][0] == "bot"
    panel = services["panel"]["command"]
    assert panel[0] == "panel"
    assert panel[panel.index("--host") + 1] == "0.0.0.0"
    assert panel[panel.index("--port") + 1] == "8080"


def test_frames_services_reach_the_compose_database(services: dict[str, dict[str, Any]]) -> None:
    for name in FRAMES_SERVICES:
        url = environment_of(services[name]).get("DATABASE_URL", "")
        # unset would mean an embedded PostgreSQL inside each container
        assert url.startswith(("postgresql://", "postgres://")), f"{name}: {url!r}"
        assert "@db:5432/" in url, f"{name} does not use the db service: {url!r}"
        assert "${POSTGRES_PASSWORD" in url, f"{name}: password is not interpolated"
    assert environment_of(services["bot"])["DISCORD_TOKEN"].startswith("${DISCORD_TOKEN:?")


def test_mlflow_tracks_into_the_same_postgres(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mlflow = services["mlflow"]
    command = [str(part) for part in mlflow.get("command", [])]
    env = environment_of(mlflow)
    if "--backend-store-uri" in command:
        backend = command[command.index("--backend-store-uri") + 1]
    else:
        backend = env["MLFLOW_BACKEND_STORE_URI"]
    assert backend.startswith("postgresql"), backend
    assert "@db:5432/" in backend, backend

    database = backend.rsplit("/", 1)[1]
    created = " ".join(
        re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))  # comments do not run
        for path in INITDB_DIR.glob("*.sql")
    )
    assert re.search(rf"CREATE\s+DATABASE\s+\"?{re.escape(database)}\"?\s*;", created, re.I), (
        f"no docker/initdb script creates the MLflow database {database!r}"
    )
    assert any("/docker-entrypoint-initdb.d" in str(v) for v in services["db"]["volumes"])

    artifact_volumes = [str(v).split(":", 1)[0] for v in mlflow.get("volumes", [])]
    assert set(artifact_volumes) & set(compose.get("volumes") or {}), "artifacts not on a volume"

    for name in FRAMES_SERVICES:
        uri = environment_of(services[name]).get("FRAMES_MLFLOW_TRACKING_URI")
        assert uri == "http://mlflow:5000", f"{name}: {uri!r}"


def test_named_volumes_are_declared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_secret_environment_values_are_interpolated(services: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for name, service in services.items():
        for key, value in environment_of(service).items():
            if any(word in key.upper() for word in SECRET_WORDS):
                checked += 1
                assert REQUIRED_INTERPOLATION.match(value), (
                    f"{name}.{key} = {value!r}: secrets must be ${{VAR}} or ${{VAR:?msg}}"
                )
    assert checked >= 3, "expected POSTGRES_PASSWORD, DISCORD_TOKEN and FRAMES_PANEL_SECRET"


def test_no_literal_password_in_any_url(compose: dict[str, Any]) -> None:
    urls = 0
    for where, text in all_strings(compose):
        for password in url_passwords(text):
            urls += 1
            assert REQUIRED_INTERPOLATION.match(password), (
                f"{where}: URL carries a literal password {password!r}"
            )
    assert urls >= len(FRAMES_SERVICES), "expected DATABASE_URLs with interpolated passwords"


def test_interpolated_variables_are_documented_in_env_example(compose: dict[str, Any]) -> None:
    used = {
        variable
        for _, text in all_strings(compose)
        for variable in INTERPOLATED_VARIABLE.findall(text)
    }
    documented = set(
        re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M)
    )
    assert {"POSTGRES_PASSWORD", "DISCORD_TOKEN", "FRAMES_PANEL_SECRET"} <= used
    missing = used - documented
    assert not missing, f".env.example does not list {sorted(missing)}"


def test_env_example_holds_no_secret_values() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match and any(word in match.group(1) for word in SECRET_WORDS):
            assert match.group(2).strip() == "", f"{match.group(1)} has a value in .env.example"


# --------------------------------------------------------------------------- Dockerfile


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages: continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return stages


def stage_chain(stages: list[Stage], stage: Stage) -> list[Stage]:
    """The stage and the stages it is built FROM, base first."""
    by_name = {s.name: s for s in stages if s.name}
    chain = [stage]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def effective(stages: list[Stage], stage: Stage, keyword: str) -> list[str]:
    return [
        rest for s in stage_chain(stages, stage) for kw, rest in s.instructions if kw == keyword
    ]


def effective_env(stages: list[Stage], stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in effective(stages, stage, "ENV"):
        words = shlex.split(rest)
        if len(words) >= 2 and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
        else:
            env.update(word.split("=", 1) for word in words)
    return env


def test_dockerfile_is_multi_stage() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    builder = stages[0]
    assert builder.base.startswith(("python:3.11", "${PYTHON_IMAGE}"))
    runs = " ".join(rest for kw, rest in builder.instructions if kw == "RUN")
    assert "venv /opt/venv" in runs
    assert "-c constraints.txt" in runs
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE.read_text(encoding="utf-8")
    final = stages[-1]
    copies = effective(stages, final, "COPY")
    assert any(c.startswith(f"--from={builder.name}") and "/opt/venv" in c for c in copies)
    assert not any(
        kw == "RUN" and "build-essential" in rest
        for s in stage_chain(stages, final)
        for kw, rest in s.instructions
    )


def test_dockerfile_final_image_runs_as_non_root() -> None:
    stages = dockerfile_stages()
    users = effective(stages, stages[-1], "USER")
    assert users, "no USER in the final image: it would run as root"
    user = users[-1].split(":", 1)[0]
    assert user not in {"root", "0"}, f"final image runs as {users[-1]!r}"


def test_dockerfile_sets_runtime_environment() -> None:
    stages = dockerfile_stages()
    final = stages[-1]
    env = effective_env(stages, final)
    assert env.get("FRAMES_ALEMBIC_DIR") == "/app/alembic"
    assert env.get("FRAMES_DATA_DIR") == "/data"
    assert env.get("HF_HUB_OFFLINE") == "1"
    copies = effective(stages, final, "COPY")
    assert any(c.split()[-1].rstrip("/") == "/app/alembic" for c in copies), "alembic not copied"


def test_dockerfile_entrypoint_and_no_image_healthcheck() -> None:
    stages = dockerfile_stages()
    final = stages[-1]
    assert effective(stages, final, "ENTRYPOINT")[-1] == '["frames"]'
    assert effective(stages, final, "CMD")[-1] == '["run"]'
    assert not any(kw == "HEALTHCHECK" for s in stages for kw, _ in s.instructions)


def test_compose_build_targets_exist(services: dict[str, dict[str, Any]]) -> None:
    names = {s.name for s in dockerfile_stages()}
    for name, service in services.items():
        build = service.get("build")
        if isinstance(build, dict) and "target" in build:
            assert build["target"] in names, f"{name} builds missing stage {build['target']}"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", ".git", "tests"} <= patterns
    assert "alembic" not in patterns and "core" not in patterns
