"""Write the demo school's OneRoster CSV roster (see classlog/demo_roster.py).

Usage: python scripts/make_demo_roster.py OUT_DIR [--version 1.1|1.2] [--students N]
       [--seed S] [--zip]
"""

from __future__ import annotations

import sys

from classlog.demo_roster import main

if __name__ == "__main__":
    sys.exit(main())
