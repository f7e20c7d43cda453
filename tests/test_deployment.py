"""The shipped deployment (docker-compose.yml, Dockerfile, deploy/): no default passwords,
Redis behind a password, separate database roles, bounded requests (issue 15, items 3, 16
and 21). Compose itself is not run here; these read what it would run."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")


def test_no_password_has_a_default():
    text = (ROOT / "docker-compose.yml").read_text()
    # ${VAR:-default} would start with a known password; ${VAR:?message} refuses to start.
    for variable in ("POSTGRES_PASSWORD", "POSTGRES_OWNER_PASSWORD", "POSTGRES_APP_PASSWORD", "REDIS_PASSWORD"):
        assert f"${{{variable}:?" in text
        assert f"${{{variable}:-" not in text
    assert "signposting-local-only" not in text


def test_redis_requires_a_password_and_every_app_service_sends_it():
    assert "--requirepass" in SERVICES["redis"]["command"]
    for service in (*APP_SERVICES, "migrate"):
        url = SERVICES[service]["environment"]["REDIS_URL"]
        assert re.match(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/", url)


def test_migrations_run_as_the_owner_and_the_app_services_as_the_app_role():
    migrate = SERVICES["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://signposting_owner:")
    assert "database_roles_grant --app-role signposting_app" in " ".join(migrate["command"])
    for service in APP_SERVICES:
        assert SERVICES[service]["environment"]["DATABASE_URL"].startswith("postgres://signposting_app:")


def test_postgresql_creates_both_roles_on_first_start():
    assert "./deploy/postgres/init:/docker-entrypoint-initdb.d:ro" in SERVICES["postgres"]["volumes"]
    script = (ROOT / "deploy/postgres/init/10-roles.sh").read_text()
    assert "CREATE ROLE signposting_owner LOGIN" in script
    assert "CREATE ROLE signposting_app LOGIN" in script
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE signposting_owner" in script
    assert "SUPERUSER" not in script.replace("NOSUPERUSER", "")
    assert (ROOT / "deploy/postgres/init/10-roles.sh").stat().st_mode & 0o111  # the entrypoint runs it


def test_gunicorn_bounds_the_request_line_and_headers():
    command = " ".join(SERVICES["web"]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    for option in ("--limit-request-line=", "--limit-request-fields=", "--limit-request-field_size="):
        assert option in command and option in dockerfile
