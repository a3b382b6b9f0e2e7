"""Benchmark of upgan's upsampling layers on DCGAN-64 and MNIST generator stages.

The same as ``upgan bench`` (see :mod:`upgan.cli.bench` for what is timed and how); every
option of that command works here, e.g.::

    python benchmarks/upsampling.py --threads 2 --output benchmarks/RESULTS.md
    python benchmarks/upsampling.py --quick
"""

import sys

from upgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
