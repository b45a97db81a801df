"""``python -m curriculum.assignments``."""
import sys

from .cli import main

sys.exit(main())
