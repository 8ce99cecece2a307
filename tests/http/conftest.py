"""pytest glue for the black-box HTTP suite (see harness.py).

Every test takes the fixture `c`, a Client bound to BOXOFFICE_URL. Tests run
in the order run.py always used, module by module and alphabetically within
a module, because some move the server's test clock for those after them.

BOXOFFICE_STRICT_SKIPS=1 (scripts/check.sh sets it on the run that provides
every environment: PostgreSQL with a second server) turns a skip into a
failure: a test that skips there lost its environment by mistake."""
import os

import pytest

import harness


@pytest.fixture
def c():
    return harness.Client()


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: (item.module.__name__, item.name))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("BOXOFFICE_STRICT_SKIPS") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = "skipped although its environment was provided: %s" % reason
