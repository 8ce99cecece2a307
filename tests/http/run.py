"""Runs the black-box HTTP suite (tests/http/test_*.py) with pytest against
BOXOFFICE_URL. Arguments name modules to run (test_convious ...); default all.
Prints pytest's own report, then "ok - / not ok - / skip - module.test" per
test, "N skipped" when any did, and a last line "N passed, N failed" that
scripts/check.sh adds up.

pytest comes from Debian (python3-pytest); when the python3 on PATH is
another one without it, this re-runs itself with /usr/bin/python3."""
import os
import sys

try:
    import pytest
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("not ok - pytest is missing (apt-get install python3-pytest)")
    print("0 passed, 1 failed")
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))


class Tally:
    def __init__(self):
        self.lines, self.passed, self.failed, self.skipped = [], 0, 0, 0

    def pytest_runtest_logreport(self, report):
        path, _, test = report.nodeid.partition("::")  # a case id may hold "/" itself
        name = os.path.basename(path)[:-3] + "." + test
        if report.when == "call" and report.passed:
            self.passed += 1
            self.lines.append("ok - %s (%.2fs)" % (name, report.duration))
        elif report.skipped:
            self.skipped += 1
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            self.lines.append("skip - %s: %s" % (name, reason))
        elif report.failed:
            self.failed += 1
            self.lines.append("not ok - %s (%s)" % (name, report.when))

    def pytest_collectreport(self, report):
        if report.failed:
            self.failed += 1
            self.lines.append("not ok - %s: collection failed" % report.nodeid)


def main(argv):
    files = [os.path.join(HERE, m if m.endswith(".py") else m + ".py") for m in argv[1:]] or [HERE]
    tally = Tally()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-rfs", "--tb=short", "--rootdir", HERE] + files,
                       plugins=[tally])
    print("\n".join(tally.lines))
    if tally.skipped:
        print("%d skipped" % tally.skipped)
    if code not in (0, 1, 5) and not tally.failed:  # interrupted, internal or usage error
        tally.failed = 1
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
