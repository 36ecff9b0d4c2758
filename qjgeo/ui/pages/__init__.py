"""The app's pages: each module has ``render(ctx)`` wiring widgets to core functions."""
