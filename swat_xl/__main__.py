from swat_xl.cli import main

raise SystemExit(main())
