"""Entry point: ``python -m app.devices.controller --state-dir ... --tcp HOST:PORT``."""

import sys

from app.devices.controller.serve import main

sys.exit(main())
