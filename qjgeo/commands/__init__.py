"""Sub-commands of the ``qjgeo`` command line; each module defines ``register(app)``."""
