import sys

try:
    from .cli import entry
except KeyboardInterrupt:  # Ctrl-C while the command line loads
    sys.stderr.write("modelcollapse: interrupted\n")
    sys.exit(130)

entry()
