"""python -m crosscheck: the same CLI as the ``crosscheck`` script."""

import sys

from .cli import main

sys.exit(main())
