"""SQL adapters: SQLModel tables of the views and registries, and the engine factory."""
