# benchlib.py: what the bench scripts share (imported from bench/, not run).

import platform


def cpu_model():
    """The CPU's model name, for the machine line every bench prints."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'
