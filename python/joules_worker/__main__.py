import sys

from joules_worker.cli import main

sys.exit(main())
