from upgan.cli import main

raise SystemExit(main())
