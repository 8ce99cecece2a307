"""Runs every tests/http/test_*.py against BOXOFFICE_URL; see harness.py."""
import importlib.util
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    only = argv[1:]
    files = sorted(f for f in os.listdir(here) if f.startswith("test_") and f.endswith(".py"))
    passed = failed = skipped = 0
    for f in files:
        name = f[:-3]
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(name, os.path.join(here, f))
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            print("not ok - %s: import failed\n%s" % (name, traceback.format_exc()))
            failed += 1
            continue
        for attr in sorted(dir(mod)):
            fn = getattr(mod, attr)
            if not attr.startswith("test_") or not callable(fn):
                continue
            started = time.time()
            try:
                fn(harness.Client())
                passed += 1
                print("ok - %s.%s (%.2fs)" % (name, attr, time.time() - started))
            except harness.Skip as why:
                skipped += 1
                print("skip - %s.%s: %s" % (name, attr, why))
            except Exception as e:  # a failed assert or a crash both fail the test
                failed += 1
                print("not ok - %s.%s: %s" % (name, attr, e))
                traceback.print_exc(limit=3, file=sys.stdout)
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
