# taplib.py: the TAP harness of the Python checks in the core suite (test-data-files.py,
# test-po-complete.py): register tests with @test, fail them with check(), run external
# tools with run() (a missing tool is a failure, not a skip), then exit with main().
#
# The scripts import it from their own directory:
#   sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
#   from taplib import check, run, test

import shutil
import subprocess
import sys

tests = []


def test(func):
    tests.append(func)
    return func


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def run(argv, **kwargs):
    """Runs a tool; returns its exit status and its stdout and stderr together."""
    check(shutil.which(argv[0]) is not None, f'{argv[0]} is not installed')
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kwargs)
    return proc.returncode, proc.stdout


def main():
    """Runs the registered tests in order; returns the exit status. A test is named by its
    docstring, else by its function name with spaces."""
    print(f'1..{len(tests)}')
    failed = 0
    for number, func in enumerate(tests, 1):
        name = func.__doc__ or func.__name__.replace('_', ' ')
        try:
            func()
            print(f'ok {number} {name}')
        except Exception as e:  # a crash in a check is a failure of that check
            failed += 1
            print(f'not ok {number} {name}')
            # Diagnostics on stdout for TAP readers, on stderr for meson's --print-errorlogs.
            print(f'not ok {number} {name}:', file=sys.stderr)
            for line in str(e).splitlines() or [type(e).__name__]:
                print(f'# {line}')
                print(f'    {line}', file=sys.stderr)
        sys.stdout.flush()
    return 1 if failed else 0
