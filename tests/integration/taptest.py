# taptest.py: what the integration scripts that drive the `livetape` binary share — where
# the binary is, its environment, a one-shot run, `livetape --headless` as a child whose
# output is read on threads, check() and the TAP loop.
#
# The scripts import it from their own directory:
#   sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
#   import taptest

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import traceback

SOURCE_ROOT = os.environ.get('LT_SOURCE_ROOT',
                             os.path.dirname(os.path.dirname(os.path.dirname(
                                 os.path.abspath(__file__)))))
LIVETAPE = os.environ.get('LT_LIVETAPE') or os.path.join(
    os.environ.get('LT_BUILD_ROOT', os.path.join(SOURCE_ROOT, '_build')), 'src', 'livetape')

# The line `livetape --headless` prints on stdout once the control API listens.
READY_RE = re.compile(r'^Livetape engine ready; control API on http://([^/]+):(\d+)/$')


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def env():
    e = dict(os.environ)
    # Untranslated messages, whatever the machine's locale.
    e['LC_ALL'] = 'C.UTF-8'
    e.pop('LANGUAGE', None)
    return e


def run(*args, timeout=60, extra_env=None):
    """Runs `livetape ARGS…` to the end; the CompletedProcess with its text output."""
    e = env()
    e.update(extra_env or {})
    return subprocess.run([LIVETAPE, *args], capture_output=True, text=True, env=e,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Daemon:
    """`livetape --headless ARGS…`, its output read on threads: stdout line by line into
    the queue `lines` (None once it ends), stderr into the list `stderr`, both in the order
    they come into the list `output`. Without an --ingest-port in ARGS the RTMP ingest
    gets a free port (`ingest_port`), so that parallel runs never meet on 1935."""

    def __init__(self, *args):
        self.ingest_port = None
        if not any(a == '--ingest-port' or a.startswith('--ingest-port=') for a in args):
            self.ingest_port = free_port()
            args = (*args, '--ingest-port', str(self.ingest_port))
        self.proc = subprocess.Popen([LIVETAPE, '--headless', *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=env())
        self.lines = queue.Queue()
        self.stderr = []
        self.output = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()

    def _read(self, stream, sink):
        for line in stream:
            self.output.append(line)
            sink(line)
        sink(None)

    def wait_ready(self, timeout=30):
        """Waits for the ready line; returns the control API's host and port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            m = READY_RE.match(line.rstrip('\n'))
            if m:
                return m.group(1), int(m.group(2))
        self.kill()
        raise AssertionError(f'no ready line; exit {self.proc.poll()}; output {self.text()!r}')

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends @sig and waits for the exit; returns the exit status and the seconds it
        took."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f'still running {timeout} s after {signal.Signals(sig).name}')
        return code, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_text(self):
        time.sleep(0.1)   # let the reader threads catch up
        return ''.join(s for s in self.stderr if s)

    def text(self):
        """Everything the daemon printed, stdout and stderr."""
        time.sleep(0.1)
        return ''.join(self.output)


def run_tests(tests, emit=None):
    """Runs @tests (functions named test_…) with TAP output: `ok N - name` or `not ok N -
    name` and the traceback as diagnostics. @emit prints one line (default: print and
    flush). Returns the exit status."""
    if emit is None:
        def emit(line):
            print(line, flush=True)

    emit(f'1..{len(tests)}')
    failed = 0
    if not os.access(LIVETAPE, os.X_OK):
        emit(f'# {LIVETAPE} is not an executable')
    for i, test in enumerate(tests, 1):
        name = test.__name__[len('test_'):].replace('_', '-')
        try:
            test()
        except Exception:
            failed += 1
            emit(f'not ok {i} - {name}')
            for line in traceback.format_exc().splitlines():
                emit(f'# {line}')
        else:
            emit(f'ok {i} - {name}')
    return 1 if failed else 0
