from classlog.cli import main

raise SystemExit(main())
