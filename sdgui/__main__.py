from sdgui.cli import main

raise SystemExit(main())
