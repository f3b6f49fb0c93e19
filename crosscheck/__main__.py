"""python -m crosscheck: the same CLI as the ``crosscheck`` script."""

import sys

from .cli import main

try:
    sys.exit(main())
except ImportError as err:  # TensorFlow/Keras missing: one line, not a traceback
    print(f"crosscheck: {err}", file=sys.stderr)
    sys.exit(2)
