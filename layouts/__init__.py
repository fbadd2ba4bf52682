"""Page layout: pure component builders, one module per section; ids in `layouts.ids`."""
