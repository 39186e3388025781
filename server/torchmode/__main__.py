from torchmode.cli.main import main

raise SystemExit(main())
