"""``python -m hrvcalm`` runs the same CLI as the ``hrvcalm`` console script."""

from hrvcalm.cli import main

raise SystemExit(main())
