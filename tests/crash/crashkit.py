"""What the crash and several-node suites share: a tally that prints TAP-like
lines and the "N passed, N failed" that scripts/check.sh adds up, the setup
of a database, starting a server, and a local webhook receiver."""
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, name):
        print(("ok - " if ok else "not ok - ") + name, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def prepare(binary, db, key):
    """Migrates the database and seeds the demo account (both idempotent)."""
    for cmd in ("migrate", "demo"):
        subprocess.run([binary, cmd, "--db", db, "--key-file", key], check=True, capture_output=True)


def start(binary, db, key, *flags):
    """Starts `boxoffice serve` on a free loopback port with extra flags;
    returns the process and its URL. Webhooks may reach local receivers."""
    proc = subprocess.Popen([binary, "serve", "--db", db, "--key-file", key, "--listen", "127.0.0.1:0",
                             "--no-access-log", "--webhook-allow", "127.0.0.1"] + list(flags),
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stderr.readline()
        if "serving on http://" in line:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, line.split("serving on ")[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("server did not start")


def webhook_receiver(on_delivery):
    """A local HTTP server that hands each delivery's JSON body to
    on_delivery(body), which returns the status to answer. Returns the
    server (shutdown() when done) and its URL."""
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            status = on_delivery(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    rx = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    return rx, "http://127.0.0.1:%d/" % rx.server_address[1]
