import sys

from digitkit.runtime.cli import main

sys.exit(main())
